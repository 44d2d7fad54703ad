"""The harness side of adapter protocol 1: one long-lived adapter process per profile.

Every call returns an ``Exchange``; transport failures are verdicts, never exceptions:
``crash`` (the process exited or could not start), ``timeout`` (no answer in time),
``protocol-error`` (a line that is not a valid answer). After any of them the process is
stopped, and the next call starts a fresh one (with a new handshake).
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PROTOCOL = 1
MAX_LINE = 16 * 1024 * 1024
STDERR_KEEP = 200  # lines kept per process
MAX_HANDSHAKE_FAILURES = 2


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
    def __init__(self, argv: list[str], env: dict):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, bufsize=0, start_new_session=True)
        self.lines: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        self._stderr_lock = threading.Lock()
        self._out = threading.Thread(target=self._read_stdout, daemon=True)
        self._err = threading.Thread(target=self._read_stderr, daemon=True)
        self._out.start()
        self._err.start()

    def _read_stdout(self):
        stream = self.proc.stdout
        try:
            while True:
                line = stream.readline(MAX_LINE + 1)
                if not line:
                    break
                self.lines.put(line)
        except (OSError, ValueError):
            pass
        self.lines.put(None)  # end of stream

    def _read_stderr(self):
        try:
            for raw in iter(self.proc.stderr.readline, b""):
                with self._stderr_lock:
                    self.stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    if len(self.stderr) > STDERR_KEEP:
                        del self.stderr[: len(self.stderr) - STDERR_KEEP]
        except (OSError, ValueError):
            pass

    def stderr_mark(self) -> int:
        with self._stderr_lock:
            return len(self.stderr)

    def stderr_since(self, mark: int) -> str:
        time.sleep(0)  # let the reader thread catch up with what is already in the pipe
        with self._stderr_lock:
            return "\n".join(self.stderr[min(mark, len(self.stderr)):])[-4000:]

    def send(self, obj: dict) -> str | None:
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
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
        self._out.join(timeout=1)
        self._err.join(timeout=1)


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
        self.hello: Hello | None = None
        self.failed_handshakes = 0  # consecutive; after MAX_HANDSHAKE_FAILURES the adapter is given up

    # -- lifecycle ----------------------------------------------------------------------
    def _start(self) -> Hello:
        try:
            self._proc = _Process(self.argv, self.env)
        except OSError as exc:
            self._proc = None
            return Hello(ok=False, status="crash", reason=f"cannot start adapter {self.argv[0]!r}: {exc}")
        ex = self._roundtrip({"op": "hello", "protocol": PROTOCOL, "profile": self.profile,
                              "ca_file": self.ca_file}, expect_id=None)
        if ex.status != "answer":
            self._kill()
            tail = f"; adapter stderr: {ex.stderr.strip()[-800:]}" if ex.stderr.strip() else ""
            return Hello(ok=False, status=ex.status, reason=f"handshake failed: {ex.message}{tail}")
        ans = ex.answer
        if "unsupported" in ans:
            return Hello(ok=False, reason=str(ans["unsupported"]))
        ok = ans.get("ok")
        if not isinstance(ok, dict) or not isinstance(ok.get("ops", []), list):
            self._kill()
            return Hello(ok=False, status="protocol-error",
                         reason=f"handshake answer is not valid: {json.dumps(ans)[:300]}")
        return Hello(ok=True, implementation=ok.get("implementation") or {},
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
        if self._proc is not None:
            self._proc.stop(graceful)
            self._proc = None

    def close(self):
        self._kill(graceful=True)

    # -- requests -----------------------------------------------------------------------
    def _roundtrip(self, obj: dict, expect_id: Any, timeout: float | None = None) -> Exchange:
        proc = self._proc
        mark = proc.stderr_mark()
        start = time.monotonic()
        err = proc.send(obj)
        if err:
            code = proc.proc.poll()
            return Exchange("crash", message=f"{err} (exit status {code})",
                            stderr=proc.stderr_since(mark), elapsed=time.monotonic() - start)
        try:
            line = proc.lines.get(timeout=timeout or self.timeout)
        except queue.Empty:
            return Exchange("timeout", message=f"no answer within {timeout or self.timeout:g} s",
                            stderr=proc.stderr_since(mark), elapsed=time.monotonic() - start)
        elapsed = time.monotonic() - start
        if line is None:
            try:
                code = proc.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
            proc._err.join(timeout=0.5)  # the process is gone: let its last stderr lines arrive
            return Exchange("crash", message=f"the adapter closed its output (exit status {code})",
                            stderr=proc.stderr_since(mark), elapsed=elapsed)
        if len(line) > MAX_LINE:
            return Exchange("protocol-error", message=f"answer line longer than {MAX_LINE} bytes",
                            stderr=proc.stderr_since(mark), elapsed=elapsed)
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
                            message=problem, stderr=proc.stderr_since(mark), elapsed=elapsed)
        return Exchange("answer", answer=ans, stderr=proc.stderr_since(mark), elapsed=elapsed)

    def request(self, op: str, args: dict, timeout: float | None = None) -> Exchange:
        hello = self.ensure()
        if not hello.ok:
            status = hello.status if hello.status != "answer" else "crash"
            return Exchange(status, message=hello.reason)
        self._next_id += 1
        ex = self._roundtrip({"id": self._next_id, "op": op, "args": args}, self._next_id, timeout)
        if ex.status != "answer":
            self._kill()  # a fresh process for the next case
        return ex


def check_answer(ans: Any, expect_id: Any) -> str | None:
    """Why ``ans`` is not a valid protocol answer, or None."""
    if not isinstance(ans, dict):
        return f"answer is not a JSON object: {json.dumps(ans)[:200]}"
    if expect_id is not None and ans.get("id") != expect_id:
        return f"answer id {ans.get('id')!r} does not match request id {expect_id}"
    keys = [k for k in ("ok", "error", "unsupported") if k in ans]
    if len(keys) != 1:
        return "answer must have exactly one of 'ok', 'error', 'unsupported'"
    if "error" in ans:
        e = ans["error"]
        if not isinstance(e, dict) or not isinstance(e.get("kind"), str):
            return "'error' must be an object with a string 'kind'"
    if "ok" in ans and expect_id is not None and not isinstance(ans["ok"], dict):
        return "'ok' must be an object"
    return None
