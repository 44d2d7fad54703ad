"""The harness side of adapter protocol 1: one long-lived adapter process per profile.

Every call returns an ``Exchange``; transport failures are verdicts, never exceptions:
``crash`` (the process exited or could not start), ``timeout`` (no answer in time),
``protocol-error`` (a line that is not a valid answer). After any of them the process is
stopped, and the next call starts a fresh one (with a new handshake).

Pipelining: the protocol answers in request order, so the harness may send the next requests
(``submit``) before it reads the current answer (``request(..., ticket=...)``); the adapter
then works while pytest records the previous case. A request's timeout runs from when the
adapter could start on it: the later of its sending and the previous answer. When a request
fails, the process is stopped and the requests sent behind it are sent again to the fresh
process, so every case keeps its own verdict.
"""
from __future__ import annotations

import collections
import json
import os
import select
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

PROTOCOL = 1
PROTOCOL_MINOR = 1  # 1.1: hello validation and limits, the ``failed`` answer, the ``fetch`` op
MAX_LINE = 16 * 1024 * 1024
MAX_DEPTH = 64  # nesting of arrays and objects in one answer (the answer object is level 1)
ACTUAL_KEEP = 16 * 1024  # characters of an answer's JSON text kept in its case's record
STDERR_KEEP = 200  # lines kept per process
STDERR_KEEP_BYTES = 256 * 1024  # and at most this many bytes of them
STDERR_EXCERPT = 4000  # characters of stderr given to one case
MAX_HANDSHAKE_FAILURES = 2
PIPELINE_BYTES = 32 * 1024  # requests in flight at most, in bytes: a pipe buffer never fills
KEEP_ANSWERS = 256  # answers read ahead and not yet claimed


@dataclass
class Exchange:
    status: str  # "answer" | "crash" | "timeout" | "protocol-error"
    answer: dict | None = None
    message: str = ""
    stderr: str = ""
    elapsed: float = 0.0


@dataclass
class Hello:
    ok: bool
    implementation: dict = field(default_factory=dict)
    ops: list = field(default_factory=list)
    features: list = field(default_factory=list)
    profiles: list = field(default_factory=list)
    reason: str = ""  # why the profile is not available (unsupported answer or failed start)
    status: str = "answer"


class _Process:
    """One adapter process. Its stdout and stderr are read in the calling thread, with
    ``select``: an answer already in the pipe costs no thread switch, and the stderr lines
    written before an answer are in their pipe when the answer is read."""

    def __init__(self, argv: list[str], env: dict):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, bufsize=0, start_new_session=True)
        self._fd = self.proc.stdout.fileno()
        self._buf = bytearray()
        self._eof = False
        self._err_fd = self.proc.stderr.fileno()
        os.set_blocking(self._err_fd, False)
        self._err_partial = b""
        self._err_eof = False
        self.stderr: list[str] = []  # the last STDERR_KEEP lines
        self._stderr_total = 0  # lines ever read: marks count from the start

    def next_line(self, deadline: float) -> bytes | None:
        """The next line of stdout (None at its end). ``TimeoutError`` when nothing complete
        came by ``deadline``. A line longer than ``MAX_LINE`` comes back unfinished, for the
        caller to refuse. Stderr is taken as it comes, so a chatty adapter never blocks."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0 or len(self._buf) > MAX_LINE or (self._eof and self._buf):
                cut = end + 1 if end >= 0 else len(self._buf)
                line = bytes(self._buf[:cut])
                del self._buf[:cut]
                return line
            if self._eof:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            fds = [self._fd] if self._err_eof else [self._fd, self._err_fd]
            ready = select.select(fds, [], [], remaining)[0]
            if self._err_fd in ready:
                self.read_stderr()
            if self._fd in ready:
                try:
                    chunk = os.read(self._fd, 1 << 16)
                except OSError:
                    chunk = b""
                if chunk:
                    self._buf += chunk
                else:
                    self._eof = True

    def read_stderr(self) -> None:
        """Take what stderr holds now, without waiting."""
        while not self._err_eof:
            try:
                chunk = os.read(self._err_fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            lines = (self._err_partial + chunk).split(b"\n")
            self._err_partial = lines.pop() if chunk else b""  # at the end, an unfinished line counts
            lines = [ln for ln in lines if ln or chunk]
            self.stderr.extend(ln.decode("utf-8", "replace") for ln in lines)
            self._stderr_total += len(lines)
            if len(self.stderr) > STDERR_KEEP:
                del self.stderr[: len(self.stderr) - STDERR_KEEP]
            if not chunk:
                self._err_eof = True

    def stderr_to_end(self, wait: float) -> None:
        """After the process ended: its last stderr lines, waiting ``wait`` seconds at most."""
        deadline = time.monotonic() + wait
        while not self._err_eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._err_fd], [], [], remaining)[0]:
                return
            self.read_stderr()

    def stderr_mark(self) -> int:
        self.read_stderr()
        return self._stderr_total

    def stderr_since(self, mark: int) -> str:
        self.read_stderr()
        start = max(0, len(self.stderr) - (self._stderr_total - mark))
        return "\n".join(self.stderr[start:])[-4000:]

    def send(self, data: bytes) -> str | None:
        self.read_stderr()  # an adapter blocked on a full stderr pipe would not read its input
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return None
        except (BrokenPipeError, OSError, ValueError) as exc:
            return f"cannot write to the adapter: {exc}"

    def stop(self, graceful: bool = True):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=1 if graceful else 0.05)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, 9)
                except (ProcessLookupError, PermissionError):
                    self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


class AdapterSession:
    """One adapter for one profile; restarts itself after a transport failure."""

    def __init__(self, argv: list[str], profile: str, *, timeout: float = 10.0,
                 ca_file: str | None = None, env: dict | None = None):
        self.argv = list(argv)
        self.profile = profile
        self.timeout = timeout
        self.ca_file = ca_file
        self.env = dict(os.environ if env is None else env)
        if ca_file:
            self.env["SSL_CERT_FILE"] = ca_file
        self._proc: _Process | None = None
        self._next_id = 0
        self._inflight: collections.OrderedDict[int, _Pending] = collections.OrderedDict()
        self._answers: collections.OrderedDict[int, Exchange] = collections.OrderedDict()
        self._last_answer = 0.0  # when the latest answer arrived (monotonic)
        self._stderr_mark = 0  # the stderr line where the oldest request in flight starts
        self.quiet = True  # no adapter process of this session has written to stderr yet
        self.sent_ahead = 0  # requests sent by ``submit``
        self.hello: Hello | None = None
        self.failed_handshakes = 0  # consecutive; after MAX_HANDSHAKE_FAILURES the adapter is given up

    # -- lifecycle ----------------------------------------------------------------------
    def _start(self) -> Hello:
        try:
            self._proc = _Process(self.argv, self.env)
        except OSError as exc:
            self._proc = None
            return Hello(ok=False, status="crash", reason=f"cannot start adapter {self.argv[0]!r}: {exc}")
        self._last_answer = 0.0
        ex = self._roundtrip({"op": "hello", "protocol": PROTOCOL, "protocol_minor": PROTOCOL_MINOR,
                              "profile": self.profile, "ca_file": self.ca_file}, expect_id=None)
        if ex.status != "answer":
            self._kill()
            tail = f"; adapter stderr: {ex.stderr.strip()[-800:]}" if ex.stderr.strip() else ""
            return Hello(ok=False, status=ex.status, reason=f"handshake failed: {ex.message}{tail}")
        ans = ex.answer
        if "unsupported" in ans:
            return Hello(ok=False, reason=str(ans["unsupported"])[:MAX_HELLO_TEXT])
        problem = check_hello(ans)
        if problem:
            self._kill()
            return Hello(ok=False, status="protocol-error",
                         reason=f"handshake answer is not valid: {problem}: {json.dumps(ans)[:300]}")
        ok = ans["ok"]
        impl = ok.get("implementation") or {}
        return Hello(ok=True, implementation={k: impl.get(k) for k in IMPLEMENTATION_KEYS},
                     ops=list(ok.get("ops") or []), features=list(ok.get("features") or []),
                     profiles=list(ok.get("profiles") or []))

    def ensure(self) -> Hello:
        """Start the adapter (and shake hands) unless it is already running.

        A handshake that fails twice in a row (crash, timeout, garbage) is not tried again:
        every later case gets the same verdict at once instead of waiting for its timeout.
        """
        if self.failed_handshakes >= MAX_HANDSHAKE_FAILURES:
            return self.hello
        if self._proc is None or self._proc.proc.poll() is not None:
            if self._proc is not None:
                self._kill()
            self.hello = self._start()
            if self.hello.ok or self.hello.status == "answer":
                self.failed_handshakes = 0
            else:
                self.failed_handshakes += 1
                if self.failed_handshakes >= MAX_HANDSHAKE_FAILURES:
                    self.hello.reason += f" (gave up after {self.failed_handshakes} attempts)"
        return self.hello

    def _kill(self, graceful: bool = False):
        self._inflight.clear()  # sent to this process: sent again to the next one
        if self._proc is not None:
            self._proc.stop(graceful)
            self._proc = None

    def close(self):
        self._kill(graceful=True)

    # -- requests -----------------------------------------------------------------------
    def _send(self, obj: dict | bytes, expect_id: Any) -> Exchange | None:
        """Send one request; None, or the ``crash`` exchange when it cannot be written."""
        proc = self._proc
        data = obj if isinstance(obj, bytes) else (json.dumps(obj) + "\n").encode()
        if not self._inflight:
            self._stderr_mark = proc.stderr_mark()
        sent = time.monotonic()
        err = proc.send(data)
        if err:
            code = proc.proc.poll()
            return Exchange("crash", message=f"{err} (exit status {code})",
                            stderr=proc.stderr_since(self._stderr_mark))
        self._inflight[expect_id] = _Pending(sent, len(data))
        return None

    def _read_answer(self, expect_id: Any, timeout: float | None) -> Exchange:
        """Read the answer to the oldest request in flight, which must be ``expect_id``."""
        proc = self._proc
        pending = self._inflight.pop(expect_id)
        limit = timeout or self.timeout
        began = max(pending.sent, self._last_answer)  # when the adapter could start on it
        mark = self._stderr_mark
        try:
            line = proc.next_line(began + limit)
        except TimeoutError:
            return Exchange("timeout", message=f"no answer within {limit:g} s",
                            stderr=proc.stderr_since(mark), elapsed=time.monotonic() - began)
        arrived = time.monotonic()  # read now; it may have waited in the pipe since
        elapsed = max(0.0, arrived - began)
        self._last_answer = arrived
        if line is None:
            try:
                code = proc.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
            proc.stderr_to_end(wait=0.5)  # the process is gone: let its last stderr lines arrive
            return Exchange("crash", message=f"the adapter closed its output (exit status {code})",
                            stderr=proc.stderr_since(mark), elapsed=elapsed)
        stderr = proc.stderr_since(mark)
        self._stderr_mark = proc.stderr_mark()
        if len(line) > MAX_LINE:
            return Exchange("protocol-error", message=f"answer line longer than {MAX_LINE} bytes",
                            stderr=stderr, elapsed=elapsed)
        text = line.decode("utf-8", "replace").strip()
        problem = None
        try:
            ans = json.loads(text)
        except ValueError:
            ans, problem = None, f"answer is not JSON: {text[:200]!r}"
        if problem is None:
            problem = check_answer(ans, expect_id)
        if problem:
            return Exchange("protocol-error", answer=ans if isinstance(ans, dict) else None,
                            message=problem, stderr=stderr, elapsed=elapsed)
        return Exchange("answer", answer=ans, stderr=stderr, elapsed=elapsed)

    def _roundtrip(self, obj: dict, expect_id: Any, timeout: float | None = None) -> Exchange:
        return self._send(obj, expect_id) or self._read_answer(expect_id, timeout)

    def submit(self, op: str, args: dict) -> int | None:
        """Send a request now, to be collected later by ``request(op, args, ticket=...)``.

        Only to a running adapter that shook hands, implements ``op`` and has written nothing to
        stderr, and only while the requests in flight stay under ``PIPELINE_BYTES``; otherwise
        None (nothing was sent).
        """
        hello = self.hello
        if self._proc is None or hello is None or not hello.ok or op not in hello.ops:
            return None
        if self._proc.stderr_mark():
            # The adapter writes to stderr: one request at a time from now on, so that each
            # case keeps the lines written while it ran (lines of requests sent ahead cannot
            # be told apart: both pipes hold data by the time the harness reads them).
            self.quiet = False
        if not self.quiet:
            return None
        data = (json.dumps({"id": self._next_id + 1, "op": op, "args": args}) + "\n").encode()
        if self._inflight and sum(p.size for p in self._inflight.values()) + len(data) > PIPELINE_BYTES:
            return None
        self._next_id += 1
        if self._send(data, self._next_id) is not None:
            self._kill()
            return None
        self.sent_ahead += 1
        return self._next_id

    def request(self, op: str, args: dict, timeout: float | None = None,
                ticket: int | None = None) -> Exchange:
        """The answer to one request: the one sent as ``ticket`` by ``submit``, or a new one.

        A ticket whose process was stopped meanwhile (another request failed) is sent again.
        """
        if ticket is not None:
            if ticket in self._answers:
                return self._answers.pop(ticket)
            if ticket in self._inflight:
                ex = self._collect(ticket, timeout)
                if ex is not None:
                    return ex
        while True:
            hello = self.ensure()
            if not hello.ok:
                status = hello.status if hello.status != "answer" else "crash"
                return Exchange(status, message=hello.reason)
            self._next_id += 1
            ex = self._send({"id": self._next_id, "op": op, "args": args}, self._next_id)
            if ex is None:
                ex = self._collect(self._next_id, timeout)
            if ex is None:
                continue  # a request sent before it failed: the process is new, nothing is in flight
            if ex.status != "answer":
                self._kill()  # a fresh process for the next case
            return ex

    def _collect(self, ticket: int, timeout: float | None) -> Exchange | None:
        """Read answers in order up to ``ticket``'s; None if an earlier request failed first."""
        while self._inflight:
            head = next(iter(self._inflight))
            ex = self._read_answer(head, timeout if head == ticket else None)
            if ex.status != "answer":
                self._kill()
            if head == ticket:
                return ex
            self._answers[head] = ex
            while len(self._answers) > KEEP_ANSWERS:
                self._answers.popitem(last=False)
            if ex.status != "answer":
                return None
        return None


@dataclass
class _Pending:
    sent: float
    size: int


IMPLEMENTATION_KEYS = ("name", "version", "language", "homepage")
MAX_HELLO_TEXT = 256  # characters of each string of the handshake answer
MAX_HELLO_LIST = 64  # entries of each of its lists


def check_hello(ans: dict) -> str | None:
    """Why ``ans`` (a JSON object) is not a valid handshake answer, or None.

    ``implementation`` is an object whose ``name``, ``version``, ``language`` and ``homepage``
    are strings or null (``name`` not empty); ``ops``, ``profiles`` and ``features`` are lists of
    strings; an optional ``protocol`` is this suite's (1; an adapter of another major version
    does not speak this protocol), an optional ``protocol_minor`` a non-negative integer.
    """
    ok = ans.get("ok")
    if not isinstance(ok, dict) or len([k for k in ("ok", "error", "unsupported") if k in ans]) != 1:
        return "expected {\"ok\": {...}} or {\"unsupported\": \"reason\"}"
    if "protocol" in ok and (type(ok["protocol"]) is not int or ok["protocol"] != PROTOCOL):
        return (f"'protocol' is {json.dumps(ok['protocol'])[:40]}: this suite speaks adapter protocol "
                f"{PROTOCOL}.{PROTOCOL_MINOR} (docs/ADAPTERS.md)")
    minor = ok.get("protocol_minor", 0)
    if type(minor) is not int or minor < 0:
        return "'protocol_minor' must be a non-negative integer"
    impl = ok.get("implementation")
    if impl is not None:
        if not isinstance(impl, dict):
            return "'implementation' must be an object"
        for key in IMPLEMENTATION_KEYS:
            value = impl.get(key)
            if value is not None and not isinstance(value, str):
                return f"implementation '{key}' must be a string or null"
            if isinstance(value, str) and len(value) > MAX_HELLO_TEXT:
                return f"implementation '{key}' is longer than {MAX_HELLO_TEXT} characters"
        if impl.get("name") is not None and not impl["name"].strip():
            return "implementation 'name' must not be empty"
    for key in ("ops", "profiles", "features"):
        value = ok.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= MAX_HELLO_TEXT
                                                  for v in value):
            return f"'{key}' must be a list of strings"
        if len(value) > MAX_HELLO_LIST:
            return f"'{key}' has more than {MAX_HELLO_LIST} entries"
    return None


def check_answer(ans: Any, expect_id: Any) -> str | None:
    """Why ``ans`` is not a valid protocol answer, or None."""
    if not isinstance(ans, dict):
        return f"answer is not a JSON object: {json.dumps(ans)[:200]}"
    if expect_id is not None and ans.get("id") != expect_id:
        return f"answer id {ans.get('id')!r} does not match request id {expect_id}"
    keys = [k for k in ("ok", "error", "unsupported", "failed") if k in ans]
    if len(keys) != 1:
        return "answer must have exactly one of 'ok', 'error', 'unsupported', 'failed'"
    if "error" in ans:
        e = ans["error"]
        if not isinstance(e, dict) or not isinstance(e.get("kind"), str):
            return "'error' must be an object with a string 'kind'"
    if "ok" in ans and expect_id is not None and not isinstance(ans["ok"], dict):
        return "'ok' must be an object"
    return None
    if "failed" in ans:  # protocol 1.1: the adapter or the tool could not run
        f = ans["failed"]
        if not isinstance(f, dict) or not isinstance(f.get("message"), str):
            return "'failed' must be an object with a string 'message'"
    if "ok" in ans and expect_id is not None and not isinstance(ans["ok"], dict):
        return "'ok' must be an object"
    return None
