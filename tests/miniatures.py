"""Miniatures: adapters that live in the test's own process, each one small behaviour.

The harness's own tests need adapters that are wrong on purpose (every answer wrong, a crash
on the first request, no answer at all, a line that is not JSON...). As processes
(tests/fakes/broken.py) each costs an interpreter start; a miniature is a function run in a
thread behind real pipes, so the harness reads, writes, times out and stops it through the
same code as any adapter (``conformance/adapter.py``, its ``LAUNCH`` seam). Only what needs a
process (its exit status, its process group, a grandchild, a signal) stays in broken.py.

A miniature's command line is ``miniature NAME``; inside ``installed()`` the harness starts
those in-process (``Launcher``) and every other command as always. It is for in-process runs
only (``tests.helpers.run_suite``, ``session()``): a subprocess run has no such program.
Miniatures answer from canned tables; none computes a right answer, so none imports an
implementation.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import subprocess
import threading
from typing import Callable

from appc_conformance.conformance import adapter, vectors
from tests.fakes.canned import DEEP, HELLO_VARIANTS, WRONG, deep_hello

_POLL = 0.05  # seconds between looks at the kill flag while a miniature waits on a pipe


class Killed(Exception):
    """The harness stopped the miniature: its thread ends."""


class Io:
    """A miniature's side of the pipes. Every wait on a pipe also waits on ``wake`` (which
    ``kill`` makes readable) and looks at the kill flag, so ``kill`` ends the thread wherever it
    waits."""

    def __init__(self, stdin: int, stdout: int, stderr: int, killed: threading.Event, pid: int, wake: int):
        self._in, self._out, self._err = stdin, stdout, stderr
        self._wake = wake
        self.killed = killed
        self.pid = pid  # what the harness calls this miniature's process id
        self._buf = bytearray()
        for fd in (stdin, stdout, stderr):
            os.set_blocking(fd, False)

    def requests(self):
        """Each request, parsed, until the harness closes stdin."""
        while True:
            line = self._readline()
            if line is None:
                return
            yield json.loads(line)

    def skip_request(self) -> None:
        """Read the next request and do nothing with it."""
        self._readline()

    def _readline(self) -> bytes | None:
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line
            self._wait(self._in, read=True)
            try:
                chunk = os.read(self._in, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                return None
            self._buf += chunk

    def _wait(self, fd: int, read: bool) -> None:
        while not self.killed.is_set():
            ready = select.select([fd, self._wake] if read else [self._wake], [] if read else [fd], [], _POLL)
            if (fd in ready[0] or ready[1]) and not self.killed.is_set():
                return
        raise Killed

    def _write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._wait(fd, read=False)
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[n:]

    def line(self, text: str) -> None:
        """Write ``text`` and a newline to stdout, as is (not necessarily JSON)."""
        self._write(self._out, text.encode("utf-8", "surrogatepass") + b"\n")

    def answer(self, obj: dict) -> None:
        self.line(json.dumps(obj))

    def note(self, text: str) -> None:
        """A line on stderr."""
        self._write(self._err, text.encode() + b"\n")

    def hang(self) -> None:
        """Wait until the harness stops the miniature."""
        self.killed.wait()
        raise Killed


def hello(name: str, ops=None) -> dict:
    return {
        "ok": {
            "implementation": {"name": f"miniature-{name}", "version": "0"},
            "protocol": adapter.PROTOCOL,
            "protocol_minor": adapter.PROTOCOL_MINOR,
            "ops": list(vectors.OPS if ops is None else ops),
            "profiles": list(vectors.PROFILES),
            "features": ["custom-port", "host-headers", "ca-file"],  # as the reference: every case runs
        }
    }


def _serve(name: str, on_request: Callable[[Io, dict], None], ops=None):
    """A miniature that shakes hands as ``name`` and hands each request to ``on_request``."""

    def run(io: Io) -> int:
        for req in io.requests():
            if req.get("op") == "hello":
                io.answer(hello(name, ops))
            else:
                on_request(io, req)
        return 0

    return run


class _Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _exit(code: int):
    raise _Exit(code)


def _wrong(io: Io, req: dict) -> None:
    io.answer({"id": req["id"], "ok": WRONG.get(req["op"], {"mutant": True})})


def _hello_first(name: str, then: Callable[[Io], int]):
    """Answer the handshake, then ``then``."""

    def run(io: Io) -> int:
        for req in io.requests():
            if req.get("op") == "hello":
                io.answer(hello(name))
                return then(io)
        return 0

    return run


def _hang(io: Io) -> int:
    io.hang()
    return 0


def _no_profile(io: Io) -> int:
    for _ in io.requests():
        io.answer({"unsupported": "this miniature supports no profile"})
    return 0


def _scripted(io: Io, req: dict) -> None:
    """As broken.py ``scripted``: the app string says what to do (``crash``, ``hang``,
    ``garbage``, ``crash-after:N`` (read the N requests sent behind it, then exit), ``err:TEXT``,
    ``slow:MS``); any other one is answered with its name and the miniature's id in ``pid``."""
    app = req.get("args", {}).get("app", "")
    if app == "crash":
        _exit(3)
    if app.startswith("crash-after:"):
        for _ in range(int(app.partition(":")[2])):
            io.skip_request()
        _exit(3)
    if app == "hang":
        io.hang()
    if app == "garbage":
        io.line("this is not JSON {")
        return
    if app.startswith("err:"):
        io.note(app[4:])
    elif app.startswith("slow:"):
        if io.killed.wait(int(app[5:]) / 1000):
            raise Killed
    io.answer({"id": req["id"], "ok": {"name": app, "pid": io.pid}})


#: name -> the function a miniature's thread runs (returns its exit status).
MINIATURES: dict[str, Callable[[Io], int]] = {
    # every answer well-formed and wrong
    "wrong": _serve("wrong", _wrong),
    # exits (status 3) on its first request
    "crash": _serve("crash", lambda io, req: (io.note("miniature: crashing now"), _exit(3))),
    # never answers a request (the handshake works)
    "hang": _serve("hang", lambda io, req: io.hang()),
    # never answers the handshake
    "hang-hello": _hang,
    # a line that is not JSON for every request
    "garbage": _serve("garbage", lambda io, req: io.line("this is not JSON {")),
    # answers with another request's id
    "bad-id": _serve("bad-id", lambda io, req: io.answer({"id": req["id"] + 1000, "ok": {}})),
    # declines every profile
    "no-profile": _no_profile,
    # the transport's own tests: each app string says what to do
    "scripted": _serve("scripted", _scripted, ops=["parse_app"]),
    # after the handshake it never reads its input again (nor answers)
    "deaf": _hello_first("deaf", _hang),
}


def _hello_variant(variant: str) -> Callable[[Io], int]:
    """``hello:VARIANT``: the handshake answer spoilt as HELLO_VARIANTS says (or ``deep``), then
    every request answered wrong."""
    if variant != "deep" and variant not in HELLO_VARIANTS:
        raise KeyError(f"no hello variant {variant!r}")

    def run(io: Io) -> int:
        for req in io.requests():
            if req.get("op") != "hello":
                _wrong(io, req)
            elif variant == "deep":
                io.line(deep_hello())
            else:
                answer = hello(f"hello:{variant}")
                HELLO_VARIANTS[variant](answer["ok"])
                io.answer(answer)
        return 0

    return run


def _deep(levels: int) -> Callable[[Io], int]:
    """``deep`` or ``deep:LEVELS``: every answer holds a list nested LEVELS (DEEP) levels."""

    def answer(io: Io, req: dict) -> None:
        io.line('{"id": %d, "ok": {"x": %s%s}}' % (req["id"], "[" * levels, "]" * levels))

    return _serve("deep", answer)


def resolve(name: str) -> Callable[[Io], int]:
    """The function of miniature ``name``: one of MINIATURES, ``hello:VARIANT``, ``deep`` or
    ``deep:LEVELS``."""
    kind, _, param = name.partition(":")
    if name in MINIATURES:
        return MINIATURES[name]
    if kind == "hello" and param:
        return _hello_variant(param)
    if kind == "deep":
        return _deep(int(param) if param else DEEP)
    raise KeyError(f"no miniature {name!r} (one of {', '.join(MINIATURES)}, hello:VARIANT, deep[:LEVELS])")


_ids = itertools.count(1)


class MiniatureProcess:
    """What ``subprocess.Popen`` offers the harness, for a miniature running in a thread."""

    in_process = True

    def __init__(self, name: str):
        run = resolve(name)
        self.pid = -next(_ids)  # never a real process id: nothing can signal it
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self.exit_fd, exit_w = os.pipe()  # closed by the thread's end: readable (EOF) from then on
        wake_r, self._wake_w = os.pipe()  # closed by kill: wakes the thread from any wait on a pipe
        self.stdin = open(in_w, "wb", buffering=0)
        self.stdout = open(out_r, "rb", buffering=0)
        self.stderr = open(err_r, "rb", buffering=0)
        self.returncode: int | None = None
        self._killed = threading.Event()
        io = Io(in_r, out_w, err_w, self._killed, self.pid, wake_r)

        def body() -> None:
            code = -9
            try:
                code = run(io)
            except _Exit as exc:
                code = exc.code
            except Killed:
                code = -9
            finally:
                for fd in (in_r, out_w, err_w, wake_r):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                self.returncode = code
                os.close(exit_w)

        self._thread = threading.Thread(target=body, name=f"miniature {name}", daemon=True)
        self._thread.start()

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired("miniature", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if not self._killed.is_set():
            self._killed.set()
            os.close(self._wake_w)


def command(name: str) -> str:
    """The ``--adapter-cmd`` of miniature ``name``."""
    resolve(name)  # an unknown name fails here, in the test, not in the run
    return f"miniature {name}"


@contextlib.contextmanager
def session(name: str, profile: str = "appc-0.8.11", timeout: float = 5.0):
    """An ``AdapterSession`` of miniature ``name`` (started on its first request), closed after."""
    with installed():
        s = adapter.AdapterSession(command(name).split(), profile, timeout=timeout)
        try:
            yield s
        finally:
            s.close()


class Launcher(adapter.Launcher):
    """``adapter.LAUNCH`` for the suite's own tests: ``miniature NAME`` in-process, anything
    else as the harness starts it."""

    def found(self, name: str) -> bool:
        return name == "miniature" or super().found(name)

    def __call__(self, argv: list[str], env: dict):
        if len(argv) == 2 and argv[0] == "miniature":
            return MiniatureProcess(argv[1])
        return super().__call__(argv, env)


@contextlib.contextmanager
def installed():
    """Miniatures can be started (``adapter.LAUNCH``) inside the block."""
    saved, adapter.LAUNCH = adapter.LAUNCH, Launcher()
    try:
        yield
    finally:
        adapter.LAUNCH = saved
