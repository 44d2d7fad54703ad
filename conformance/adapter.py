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
process, so every case keeps its own verdict; their exchanges say so (``retried``). When the
process dies, its requests in flight are read first: the answers it wrote, then ``crash`` for
the one it died on.

Limits (docs/ADAPTERS.md, section 9.1): no write or read outlives the request's deadline; the
process's exit ends its output and its process group is killed with it; answers nested deeper
than ``MAX_DEPTH`` are refused without recursion; lone surrogates are replaced where answers
are read; stderr is kept as a bounded tail.
"""

from __future__ import annotations

import collections
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

PROTOCOL = 1
PROTOCOL_MINOR = 2  # 1.1: hello validation and limits, the ``failed`` answer, the ``fetch`` op; 1.2: ``size`` matches
MAX_LINE = 16 * 1024 * 1024
MAX_DEPTH = 64  # nesting of arrays and objects in one answer (the answer object is level 1)
ACTUAL_KEEP = 16 * 1024  # characters of an answer's JSON text kept in its case's record
STDERR_KEEP = 200  # lines kept per process
STDERR_KEEP_BYTES = 256 * 1024  # and at most this many bytes of them
STDERR_EXCERPT = 4000  # characters of stderr given to one case
MAX_HANDSHAKE_FAILURES = 2
PIPELINE_BYTES = 32 * 1024  # requests in flight at most, in bytes: a pipe buffer never fills
KEEP_ANSWERS = 256  # answers read ahead and not yet claimed


# The watcher: one small process per harness process, started with the first adapter. The
# harness tells it each adapter process group it starts ("+ PGID") and stops ("- PGID") through
# a pipe that only the harness holds. When that pipe breaks without the groups being stopped
# (the harness was killed with SIGKILL, which it cannot catch), the watcher kills the groups
# still listed, so no adapter outlives the run. It has a session of its own, so a Ctrl-C at the
# terminal reaches the harness (which stops its adapters itself) and not the watcher.
_WATCHER = r"""
import os, signal, sys
live = set()
for line in sys.stdin:
    sign, _, pgid = line.partition(" ")
    try:
        (live.add if sign == "+" else live.discard)(int(pgid))
    except ValueError:
        pass
for pgid in live:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Watcher:
    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._owner = 0

    def _tell(self, line: str) -> None:
        with self._lock:
            try:
                if self._proc is None or self._owner != os.getpid() or self._proc.poll() is not None:
                    self._proc = subprocess.Popen(
                        [sys.executable, "-c", _WATCHER],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                    self._owner = os.getpid()
                stdin = self._proc.stdin
                assert stdin is not None  # started with stdin=PIPE
                stdin.write(line.encode())
                stdin.flush()
            except OSError:
                self._proc = None  # no watcher: the harness still stops its adapters on every path it sees

    def started(self, pgid: int) -> None:
        self._tell(f"+ {pgid}\n")

    def stopped(self, pgid: int) -> None:
        self._tell(f"- {pgid}\n")


WATCHER = _Watcher()


# What became of one request: an answer (checked for shape), or how the exchange broke down.
Status = Literal["answer", "crash", "timeout", "protocol-error"]


@dataclass
class Exchange:
    status: Status
    answer: dict | None = None
    message: str = ""
    stderr: str = ""
    elapsed: float = 0.0
    size: int = 0  # bytes of the answer line
    notes: list = field(default_factory=list)  # what the harness changed in the answer, and why
    retried: str = ""  # the request was sent again: what happened to the first sending


@dataclass
class Hello:
    ok: bool
    implementation: dict = field(default_factory=dict)
    ops: list = field(default_factory=list)
    features: list = field(default_factory=list)
    profiles: list = field(default_factory=list)
    reason: str = ""  # why the profile is not available (unsupported answer or failed start)
    status: Status = "answer"  # "answer": the adapter answered the hello (ok or unsupported)


class Launcher:
    """How an adapter command is found and started: a process in a new session (its own
    process group), its three standard streams pipes."""

    def found(self, name: str) -> bool:
        """``name`` (a command line's first word) names a program that can be started."""
        return shutil.which(name) is not None

    def __call__(self, argv: list[str], env: dict) -> Any:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            bufsize=0,
            start_new_session=True,
        )


#: The launcher in use. The suite's own tests put one here that starts some commands
#: in-process (tests/miniatures.py) and passes the others on to a ``Launcher``.
LAUNCH = Launcher()


class _Process:
    """One adapter process, in a process group of its own. Its stdin, stdout and stderr are
    non-blocking and served in the calling thread with ``select``: an answer already in the
    pipe costs no thread switch, a request that does not fit in the pipe is written while the
    harness waits for answers, and no read or write outlives the deadline of the request
    being read. The process's exit (a pidfd, where the system has them) ends its output, even
    when a grandchild still holds the pipe; the group is killed with the process."""

    def __init__(self, argv: list[str], env: dict):
        self.proc = LAUNCH(argv, env)
        self.pid = self.proc.pid  # also the process group's id
        # What the launch gave: a process in a group of its own, or an in-process stand-in
        # (``in_process``; the suite's own tests) that ends with ``kill`` and says it ended on
        # its ``exit_fd`` (which becomes this object's, closed in ``stop``). Only a process
        # group is watched and killed.
        self.group = not getattr(self.proc, "in_process", False)
        if self.group:
            WATCHER.started(self.pid)
        stdin, stdout, stderr = self.proc.stdin, self.proc.stdout, self.proc.stderr
        assert stdin is not None and stdout is not None and stderr is not None  # all three are pipes
        self._in_fd = stdin.fileno()
        self._fd = stdout.fileno()
        self._err_fd = stderr.fileno()
        for fd in (self._in_fd, self._fd, self._err_fd):
            os.set_blocking(fd, False)
        self._out = bytearray()  # requests not yet written
        self.write_error: str | None = None
        self._buf = bytearray()
        self._scanned = 0  # bytes of _buf known to hold no newline
        self._eof = False
        self._err_partial = bytearray()  # the unfinished stderr line (its last STDERR_EXCERPT bytes)
        self._err_eof = False
        self.stderr: collections.deque[str] = collections.deque()  # the last lines kept
        self._stderr_chars = 0  # characters in self.stderr
        self._stderr_total = 0  # lines ever read: marks count from the start
        self.wrote_stderr = False
        try:
            self._pidfd: int | None = os.pidfd_open(self.pid) if self.group else self.proc.exit_fd
        except (AttributeError, OSError):
            self._pidfd = None  # no pidfd: the exit is polled on every wake-up (at least every 0.1 s)
        self.exited = False

    # -- stdin --------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Queue ``data`` and write what the pipe takes now; the rest is written while the
        harness waits (``next_line``). A write error is kept in ``write_error``."""
        if self.write_error is None:
            self._out += data
            self._flush()

    def _flush(self) -> None:
        while self._out:
            try:
                n = os.write(self._in_fd, self._out)
            except BlockingIOError:
                return
            except OSError as exc:  # the adapter closed its stdin or exited
                self.write_error = f"cannot write to the adapter: {exc}"
                self._out.clear()
                return
            del self._out[:n]

    def unwritten(self) -> int:
        return len(self._out)

    # -- stdout -------------------------------------------------------------------------
    def next_line(self, deadline: float) -> bytes | None:
        """The next line of stdout (None at its end, or once the process exited and its last
        line is read). ``TimeoutError`` when nothing complete came by ``deadline``. A line longer
        than ``MAX_LINE`` comes back unfinished, for the caller to refuse. Stderr is taken as it
        comes, so a chatty adapter never blocks; the deadline is checked on every wake-up."""
        while True:
            buf = self._buf
            end = buf.find(b"\n", self._scanned)
            if end >= 0 or len(buf) > MAX_LINE or (self._eof and buf):
                cut = end + 1 if end >= 0 else min(len(buf), MAX_LINE + 1)
                line = bytes(buf[:cut])
                del buf[:cut]
                self._scanned = 0
                return line
            self._scanned = len(buf)
            if self._eof:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readers = [self._fd]
            if not self._err_eof:
                readers.append(self._err_fd)
            if self._pidfd is not None:
                readers.append(self._pidfd)
            else:
                remaining = min(remaining, 0.1)
            writers = [self._in_fd] if self._out else []
            ready, writable, _ = select.select(readers, writers, [], remaining)
            if writable:
                self._flush()
            if self._err_fd in ready:
                self.read_stderr()
            if self._fd in ready:
                self._read_stdout()
            if (self._pidfd in ready) if self._pidfd is not None else self.proc.poll() is not None:
                self._ended()

    def _read_stdout(self) -> None:
        try:
            chunk = os.read(self._fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self._buf += chunk
        else:
            self._eof = True

    def _ended(self) -> None:
        """The process exited: what it wrote is in the pipes now. Its group is killed (a
        grandchild holding the pipes would keep them open), and the pipes are read to the end."""
        self.exited = True
        self.kill_group()
        for _ in range((MAX_LINE >> 16) + 2):  # bounded: the group is gone, the pipe holds little
            if self._eof or len(self._buf) > MAX_LINE:
                break
            before = len(self._buf)
            self._read_stdout()
            if len(self._buf) == before and not self._eof:
                break  # nothing more in the pipe
        self._eof = True
        self.read_stderr()

    # -- stderr -------------------------------------------------------------------------
    def read_stderr(self, chunks: int = 16) -> None:
        """Take what stderr holds now (at most ``chunks`` reads), without waiting. Linear in
        what is read; a line is kept to its last ``STDERR_EXCERPT`` bytes and the kept lines to
        ``STDERR_KEEP`` lines and ``STDERR_KEEP_BYTES``."""
        for _ in range(chunks):
            if self._err_eof:
                return
            try:
                chunk = os.read(self._err_fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._err_eof = True
                if self._err_partial:
                    self._keep_line(self._err_partial)
                    self._err_partial = bytearray()
                return
            self.wrote_stderr = True
            *lines, rest = chunk.split(b"\n")
            if lines:
                self._keep_line(self._err_partial + lines[0])
                for ln in lines[1:]:
                    self._keep_line(ln)
                self._err_partial = bytearray(rest[-STDERR_EXCERPT:])
            else:
                self._err_partial += rest
                if len(self._err_partial) > STDERR_EXCERPT:
                    del self._err_partial[:-STDERR_EXCERPT]

    def _keep_line(self, raw: bytes | bytearray) -> None:
        text = bytes(raw[-STDERR_EXCERPT:]).decode("utf-8", "replace")
        self.stderr.append(text)
        self._stderr_chars += len(text)
        self._stderr_total += 1
        while len(self.stderr) > STDERR_KEEP or self._stderr_chars > STDERR_KEEP_BYTES:
            self._stderr_chars -= len(self.stderr.popleft())

    def stderr_mark(self) -> int:
        self.read_stderr()
        return self._stderr_total

    def stderr_since(self, mark: int) -> str:
        """The stderr lines from ``mark`` on, with the unfinished one: the last ``STDERR_EXCERPT``
        characters."""
        self.read_stderr()
        count = min(len(self.stderr), self._stderr_total - mark)
        lines = [self.stderr[i] for i in range(len(self.stderr) - count, len(self.stderr))]
        if self._err_partial:
            lines.append(bytes(self._err_partial).decode("utf-8", "replace"))
        return "\n".join(lines)[-STDERR_EXCERPT:]

    # -- the end ------------------------------------------------------------------------
    def kill_group(self) -> None:
        if not self.group:
            self.proc.kill()
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if self.proc.poll() is None:
                self.proc.kill()

    def stop(self, graceful: bool = True) -> None:
        """End the process: with ``graceful``, close its stdin and give it a second to exit;
        then kill its whole process group (grandchildren included) in every case."""
        if graceful and self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        self.kill_group()
        self.proc.wait()
        if self.group:
            WATCHER.stopped(self.pid)
        for stream in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            try:
                if stream is not None:
                    stream.close()
            except (OSError, ValueError):
                pass
        if self._pidfd is not None:
            os.close(self._pidfd)  # a stand-in's exit_fd too: the harness closes it with the streams
            self._pidfd = None


class AdapterSession:
    """One adapter for one profile; restarts itself after a transport failure."""

    def __init__(
        self,
        argv: list[str],
        profile: str,
        *,
        timeout: float = 10.0,
        ca_file: str | None = None,
        env: dict | None = None,
        validator=None,
    ):
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
        # tickets whose process was stopped before it answered them: why (they are sent again)
        self._dropped: collections.OrderedDict[int, str] = collections.OrderedDict()
        self._last_answer = 0.0  # when the latest answer arrived (monotonic)
        self._stderr_mark = 0  # the stderr line where the oldest request in flight starts
        self.quiet = True  # no adapter process of this session has written to stderr yet
        self.sent_ahead = 0  # requests sent by ``submit``
        self.hello: Hello | None = None
        self.failed_handshakes = 0  # consecutive; after MAX_HANDSHAKE_FAILURES the adapter is given up
        # ``--validate-adapter``: a ``protocol.Validator`` that checks every message against the
        # protocol's JSON Schemas (conformance/protocol/); None: the checks of ``check_answer``
        # and ``check_hello`` only.
        self.validator = validator

    # -- lifecycle ----------------------------------------------------------------------
    def _start(self) -> Hello:
        try:
            self._proc = _Process(self.argv, self.env)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:  # ValueError: a NUL in argv
            self._proc = None
            return Hello(ok=False, status="crash", reason=f"cannot start adapter {self.argv[0]!r}: {exc}")
        self._last_answer = 0.0
        hello = {
            "op": "hello",
            "protocol": PROTOCOL,
            "protocol_minor": PROTOCOL_MINOR,
            "profile": self.profile,
            "ca_file": self.ca_file,
        }
        if self.validator is not None:
            problem = self.validator.check("hello.request", hello)
            if problem:
                self._kill()
                return Hello(ok=False, status="protocol-error", reason=f"the suite's hello {problem}")
        ex = self._roundtrip(hello, expect_id=None, op="hello")
        if ex.status != "answer":
            self._kill()
            tail = f"; adapter stderr: {ex.stderr.strip()[-800:]}" if ex.stderr.strip() else ""
            return Hello(ok=False, status=ex.status, reason=f"handshake failed: {ex.message}{tail}")
        ans = ex.answer
        assert ans is not None  # an "answer" exchange carries its answer
        if "unsupported" in ans:
            return Hello(ok=False, reason=str(ans["unsupported"])[:MAX_HELLO_TEXT])
        problem = check_hello(ans)
        if problem:
            self._kill()
            return Hello(
                ok=False,
                status="protocol-error",
                reason=f"handshake answer is not valid: {problem}: {json.dumps(ans)[:300]}",
            )
        ok = ans["ok"]
        impl = ok.get("implementation") or {}
        return Hello(
            ok=True,
            implementation={k: impl[k] for k in IMPLEMENTATION_KEYS if impl.get(k) is not None},
            ops=list(ok.get("ops") or []),
            features=list(ok.get("features") or []),
            profiles=list(ok.get("profiles") or []),
        )

    def ensure(self) -> Hello:
        """Start the adapter (and shake hands) unless it is already running.

        A handshake that fails twice in a row (crash, timeout, garbage) is not tried again:
        every later case gets the same verdict at once instead of waiting for its timeout.
        """
        if self.failed_handshakes >= MAX_HANDSHAKE_FAILURES and self.hello is not None:
            return self.hello
        # A process that exited with requests in flight is left to them: they are read first
        # (answers it wrote, then the crash of the one it died on), then it is replaced.
        if self._proc is None or self.hello is None or (self._proc.proc.poll() is not None and not self._inflight):
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

    def _kill(self, graceful: bool = False, why: str = ""):
        """Stop the process (and its group). The requests still in flight are sent again to the
        next process; each keeps ``why`` (what ended the first one) for its record."""
        if self._inflight and self._proc is not None:
            for ticket in self._inflight:
                self._dropped[ticket] = (
                    f"first sent to adapter process {self._proc.pid}, which was "
                    f"stopped before answering it ({why or 'the session ended'}); "
                    f"this verdict is a fresh process's answer"
                )
            while len(self._dropped) > KEEP_ANSWERS:
                self._dropped.popitem(last=False)
        self._inflight.clear()
        if self._proc is not None:
            self._proc.stop(graceful)
            self._proc = None

    def close(self):
        self._kill(graceful=True)

    # -- requests -----------------------------------------------------------------------
    def _running(self) -> _Process:
        """The adapter process requests go to (``ensure`` or ``_start`` started it)."""
        if self._proc is None:
            raise RuntimeError("no adapter process: a request was sent before the adapter was started")
        return self._proc

    def _send(self, obj: dict | bytes, expect_id: Any, op: str) -> None:
        """Send one request: queued, written as the adapter reads it (never blocking). A
        request the adapter cannot take gets its verdict when its answer is read."""
        proc = self._running()
        data = obj if isinstance(obj, bytes) else (json.dumps(obj) + "\n").encode()
        if not self._inflight:
            self._stderr_mark = proc.stderr_mark()
        self._inflight[expect_id] = _Pending(time.monotonic(), len(data), op)
        proc.send(data)

    def _read_answer(self, expect_id: Any, timeout: float | None) -> Exchange:
        """Read the answer to the oldest request in flight, which must be ``expect_id``."""
        proc = self._running()
        pending = self._inflight.pop(expect_id)
        limit = timeout or self.timeout
        began = max(pending.sent, self._last_answer)  # when the adapter could start on it
        mark = self._stderr_mark
        try:
            line = proc.next_line(began + limit)
        except TimeoutError:
            left = proc.unwritten()
            why = f" (the adapter did not read its input: {left} bytes of requests not written)" if left else ""
            if proc.write_error:
                why += f" ({proc.write_error})"
            return Exchange(
                "timeout",
                message=f"no answer within {limit:g} s{why}",
                stderr=proc.stderr_since(mark),
                elapsed=time.monotonic() - began,
            )
        arrived = time.monotonic()  # read now; it may have waited in the pipe since
        elapsed = max(0.0, arrived - began)
        self._last_answer = arrived
        if line is None:
            try:
                code = proc.proc.wait(timeout=0 if proc.exited else 1)
            except subprocess.TimeoutExpired:
                code = None
            proc.read_stderr()  # the process is gone: its last stderr lines are in the pipe
            why = f"; {proc.write_error}" if proc.write_error else ""
            return Exchange(
                "crash",
                message=f"the adapter closed its output (exit status {code}){why}",
                stderr=proc.stderr_since(mark),
                elapsed=elapsed,
            )
        stderr = proc.stderr_since(mark)
        self._stderr_mark = proc.stderr_mark()
        if len(line) > MAX_LINE:
            return Exchange(
                "protocol-error",
                message=f"answer line longer than {MAX_LINE} bytes",
                stderr=stderr,
                elapsed=elapsed,
                size=len(line),
            )
        ans, problem, notes = read_json(line)
        if problem is None:
            problem = check_answer(ans, expect_id)
        if problem is None and self.validator is not None:
            problem = (
                self.validator.answer(pending.op, ans)
                if expect_id is not None
                else self.validator.check("hello.answer", ans)
            )
            if problem:
                problem = f"the answer {problem}"
        if problem:
            return Exchange(
                "protocol-error",
                answer=ans if isinstance(ans, dict) else None,
                message=problem,
                stderr=stderr,
                elapsed=elapsed,
                size=len(line),
                notes=notes,
            )
        return Exchange("answer", answer=ans, stderr=stderr, elapsed=elapsed, size=len(line), notes=notes)

    def _roundtrip(self, obj: dict, expect_id: Any, timeout: float | None = None, op: str = "") -> Exchange:
        self._send(obj, expect_id, op)
        return self._read_answer(expect_id, timeout)

    def submit(self, op: str, args: dict) -> int | None:
        """Send a request now, to be collected later by ``request(op, args, ticket=...)``.

        Only to a running adapter that shook hands, implements ``op`` and has written nothing to
        stderr, and only while the requests in flight stay under ``PIPELINE_BYTES``; otherwise
        None (nothing was sent).
        """
        hello = self.hello
        if self._proc is None or hello is None or not hello.ok or op not in hello.ops:
            return None
        if self._proc.exited or self._proc.write_error or self._proc.proc.poll() is not None:
            return None  # its requests in flight are read first (ensure)
        self._proc.read_stderr()
        if self._proc.wrote_stderr:
            # The adapter writes to stderr: one request at a time from now on, so that each
            # case keeps the lines written while it ran (lines of requests sent ahead cannot
            # be told apart: both pipes hold data by the time the harness reads them).
            self.quiet = False
        if not self.quiet:
            return None
        message = {"id": self._next_id + 1, "op": op, "args": args}
        if self.validator is not None and self.validator.request(op, message):
            return None  # ``request`` gives its verdict
        data = (json.dumps(message) + "\n").encode()
        if self._inflight and sum(p.size for p in self._inflight.values()) + len(data) > PIPELINE_BYTES:
            return None
        self._next_id += 1
        self._send(data, self._next_id, op)
        self.sent_ahead += 1
        return self._next_id

    def request(self, op: str, args: dict, timeout: float | None = None, ticket: int | None = None) -> Exchange:
        """The answer to one request: the one sent as ``ticket`` by ``submit``, or a new one.

        A ticket whose process was stopped meanwhile (another request failed) is sent again,
        and the exchange says so (``retried``).
        """
        retried = ""
        if ticket is not None:
            if ticket in self._answers:
                return self._answers.pop(ticket)
            if ticket in self._inflight:
                ex = self._collect(ticket, timeout)
                if ex is not None:
                    return ex
            retried = self._dropped.pop(ticket, "")
        while True:
            hello = self.ensure()
            if not hello.ok:
                status = hello.status if hello.status != "answer" else "crash"
                return Exchange(status, message=hello.reason, retried=retried)
            self._next_id += 1
            message = {"id": self._next_id, "op": op, "args": args}
            if self.validator is not None:
                problem = self.validator.request(op, message)
                if problem:  # nothing is sent: the fault is the suite's (or its vectors'), not the adapter's
                    return Exchange("protocol-error", message=f"the suite's request {problem}", retried=retried)
            self._send(message, self._next_id, op)
            ex = self._collect(self._next_id, timeout)
            if ex is None:
                # a request sent before it failed: the process is new, nothing is in flight
                retried = retried or self._dropped.pop(self._next_id, "")
                self._dropped.pop(self._next_id, None)
                continue
            if ex.status != "answer":
                self._kill(why=f"this request got {ex.status}")  # a fresh process for the next case
            ex.retried = retried
            return ex

    def _collect(self, ticket: int, timeout: float | None) -> Exchange | None:
        """Read answers in order up to ``ticket``'s; None if an earlier request failed first."""
        while self._inflight:
            head = next(iter(self._inflight))
            ex = self._read_answer(head, timeout if head == ticket else None)
            if ex.status != "answer":
                self._kill(why=f"an earlier request got {ex.status}: {ex.message[:200]}")
            if head == ticket:
                return ex
            self._answers[head] = ex
            while len(self._answers) > KEEP_ANSWERS:
                self._answers.popitem(last=False)
            if ex.status != "answer":
                return None
        return None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_json(line: bytes) -> tuple[Any, str | None, list[str]]:
    """One answer line as (JSON value, why it is refused or None, notes).

    Refused: not JSON, or nested deeper than ``MAX_DEPTH`` (without recursing that deep). Bytes
    that are not UTF-8 and lone surrogates (``\\ud800``: valid JSON, but no Unicode character,
    which no UTF-8 writer accepts) are replaced by U+FFFD, and a note says so.
    """
    notes = []
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", "replace")
        notes.append("bytes that are not UTF-8 were replaced by U+FFFD")
    try:
        value = json.loads(text)
    except RecursionError:
        return None, f"answer is nested deeper than {MAX_DEPTH} levels", notes
    except ValueError:
        return None, f"answer is not JSON: {text.strip()[:200]!r}", notes
    if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        return None, f"answer is nested deeper than {MAX_DEPTH} levels", notes
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        value, count = _replace_surrogates(value)
        if count:
            notes.append(
                f"{count} string(s) of the answer held lone surrogates (escapes \\ud800 to "
                f"\\udfff that are no Unicode character): replaced by U+FFFD"
            )
    return value, None, notes


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values() if isinstance(x, (dict, list)))
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v if isinstance(x, (dict, list)))
    return False


def _replace_surrogates(value: Any) -> tuple[Any, int]:
    """``value`` with lone surrogates replaced, and how many strings had them (the depth is
    already bounded by ``MAX_DEPTH``)."""
    if isinstance(value, str):
        fixed, n = _SURROGATE.subn("\ufffd", value)
        return fixed, int(n > 0)
    if isinstance(value, list):
        pairs = [_replace_surrogates(v) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        out, total = {}, 0
        for k, v in value.items():
            k2, n1 = _replace_surrogates(k)
            v2, n2 = _replace_surrogates(v)
            out[k2] = v2
            total += n1 + n2
        return out, total
    return value, 0


@dataclass
class _Pending:
    sent: float
    size: int
    op: str = ""


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
        return 'expected {"ok": {...}} or {"unsupported": "reason"}'
    if "protocol" in ok and (type(ok["protocol"]) is not int or ok["protocol"] != PROTOCOL):
        return (
            f"'protocol' is {json.dumps(ok['protocol'])[:40]}: this suite speaks adapter protocol "
            f"{PROTOCOL}.{PROTOCOL_MINOR} (docs/ADAPTERS.md)"
        )
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
        if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= MAX_HELLO_TEXT for v in value):
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
    if "failed" in ans:  # protocol 1.1: the adapter or the tool could not run
        f = ans["failed"]
        if not isinstance(f, dict) or not isinstance(f.get("message"), str):
            return "'failed' must be an object with a string 'message'"
    if "ok" in ans and expect_id is not None and not isinstance(ans["ok"], dict):
        return "'ok' must be an object"
    return None
