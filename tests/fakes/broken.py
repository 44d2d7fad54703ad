"""Deliberately broken adapters, to prove the harness grades them right.

    python tests/fakes/broken.py MODE

MODE is one of:
- ``wrong``: answers every request with a well-formed but wrong result;
- ``crash``: exits without answering on every request after the handshake;
- ``crash-some``: answers like the reference, but exits on every third request;
- ``hang``: never answers a request (the handshake works);
- ``hang-hello``: never answers the handshake;
- ``garbage``: writes a line that is not JSON;
- ``bad-id``: answers with the wrong request id;
- ``lacks-ops``: the reference, but it only declares ``parse_app``;
- ``no-profile``: declines every profile in the handshake;
- ``negate``: computes the reference's answer and turns it around: an accepted input is
  rejected with a wrong kind, a rejected one is accepted with a result no vector expects.
  Every case must fail against it: this is the proof that every vector can fail;
- ``scripted``: for the transport's own tests. It declares only ``parse_app``, writes nothing
  to stderr unless asked, and the app string of each request says what to do: ``crash``,
  ``hang`` and ``garbage`` as the modes of those names; ``crash-after:N`` reads the N requests
  sent behind it, then crashes (so they were sent to a process that died, whatever the machine's
  load); ``err:TEXT`` writes TEXT to stderr,
  then answers; ``slow:MS`` waits MS milliseconds, then answers. Any other string is answered
  with ``{"name": APP, "pid": PID}``: the process id shows which process answered.

Hostile modes, for the harness's own limits (tests/test_hostile_adapter.py). They behave like
the reference unless said otherwise, and write nothing to stderr unless said otherwise:
- ``hello:VARIANT``: a bad or odd handshake answer (``HELLO_VARIANTS`` names them);
- ``surrogate``: every answer carries a lone surrogate (valid JSON, invalid Unicode);
- ``deep`` or ``deep:LEVELS``: every answer holds a list nested LEVELS (100,000) levels deep;
- ``deaf``: after the handshake it never reads stdin again (and never answers);
- ``stderr-flood:MB``: writes MB mebibytes to stderr without a newline, then answers;
- ``stderr-endless``: writes to stderr without end and never answers;
- ``grandchild DIR``: on a request it starts a grandchild that keeps stdout open (its pid is
  written to a file in DIR), then exits without answering;
- ``daemon DIR``: at the handshake it starts a grandchild that lives on by itself (pid in DIR);
- ``big:KIB``: every answer carries a member of KIB kibibytes;
- ``big-unsupported:KIB``: answers every request ``unsupported``, with a reason of KIB kibibytes;
- ``crash-nth:N FILE``: exits without a word on every Nth request a process gets, and first
  appends the request (profile, op, args) to FILE as one JSON line;
- ``escapes``: its hello's name and version and every answer carry terminal escapes (clear
  screen, window title, a carriage return that forges a verdict line) and HTML and Markdown
  (``<img>``, ``<script>``, a table pipe, a comment): in turn an error message, an
  ``unsupported`` reason and a wrong name; it writes the same to stderr;
- ``escapes-start``: writes that text to stderr and exits before the handshake;
- ``request-flood:N,H,KIB,PATHKIB``: on a discover or resolve request, first sends N HTTPS
  requests to the app name's host (the request's ``port``; loopback only), each with H headers
  of KIB kibibytes and a path of PATHKIB kibibytes, then answers like the reference.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from appc_conformance.conformance.adapters.reference import __main__ as reference
from tests.fakes.canned import DEEP, EVIL, HELLO_VARIANTS, WRONG, deep_hello


def out(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def negate(reply: dict, op: str) -> dict:
    rid = reply.get("id")
    if "ok" in reply:
        return {"id": rid, "error": {"kind": "fetch-failed", "message": "negated: rejects what the reference accepts"}}
    if "error" in reply:
        return {"id": rid, "ok": WRONG.get(op, {"mutant": True})}
    return reply


def hostile_hello(variant: str, reply: dict) -> str:
    """The handshake answer of ``hello:VARIANT``, as a line."""
    if variant == "deep":
        return deep_hello() + "\n"
    HELLO_VARIANTS[variant](reply["ok"])
    return json.dumps(reply) + "\n"


def spawn_grandchild(folder: str, hold_stdout: bool) -> None:
    """A ``sleep`` in the adapter's process group; its pid goes to a file in ``folder``."""
    import subprocess

    quiet = None if hold_stdout else subprocess.DEVNULL
    child = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL, stdout=quiet, stderr=quiet)
    with open(os.path.join(folder, f"{child.pid}.pid"), "w") as f:
        f.write(str(child.pid))


def hostile(mode: str, arg: str | None, req: dict, state: dict) -> None:
    """Answer ``req`` as the hostile mode ``mode`` does (after the handshake)."""
    name, _, param = mode.partition(":")
    if name == "stderr-endless":
        chunk = b"x" * 65536
        while True:
            os.write(2, chunk)
    if name == "grandchild":
        spawn_grandchild(arg, hold_stdout=True)
        os._exit(4)
    if name == "crash-nth":
        state["count"] = state.get("count", 0) + 1
        if state["count"] % int(param) == 0:
            with open(arg, "a") as f:
                f.write(json.dumps({"profile": state["profile"], "op": req["op"], "args": req["args"]}) + "\n")
            os._exit(5)
    if name == "stderr-flood":
        chunk, left = b"y" * 65536, int(param) << 20
        while left > 0:
            left -= os.write(2, chunk[:left])
    if name == "request-flood" and req.get("op") in ("discover", "resolve"):
        flood(req["args"], *(int(x) for x in param.split(",")))
    if name == "escapes":
        sys.stderr.write(EVIL + "\n")
        sys.stderr.flush()
        state["count"] = state.get("count", 0) + 1
        kind = state["count"] % 3
        if kind == 0:
            out({"id": req["id"], "error": {"kind": "other", "message": EVIL}})
        elif kind == 1:
            out({"id": req["id"], "unsupported": EVIL})
        else:
            out({"id": req["id"], "ok": {"name": EVIL, "tag": None, "labels": {}}})
        return
    if name == "big-unsupported":
        out({"id": req["id"], "unsupported": "u" * (int(param) << 10)})
        return
    reply = reference.answer(req, state)
    if name == "deep":
        levels = int(param or DEEP)
        sys.stdout.write('{"id": %d, "ok": {"x": %s%s}}\n' % (req["id"], "[" * levels, "]" * levels))
        sys.stdout.flush()
        return
    body = reply.get("ok") if "ok" in reply else reply.get("error")
    if name == "surrogate" and isinstance(body, dict):
        body["note"] = "lone \ud800 surrogate"
    if name == "big" and isinstance(body, dict):
        body["padding"] = "z" * (int(param) << 10)
    out(reply)


def flood(args: dict, count: int, headers: int, kib: int, path_kib: int) -> None:
    import socket
    import ssl

    host = args["app"].split("/", 1)[0].split(":")[0]
    if not host.startswith("127."):
        raise SystemExit(f"request-flood: {host} is not a loopback address")
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    path = "/" + "p" * ((path_kib << 10) - 1)
    head = "".join(f"X-Flood-{i}: {'v' * (kib << 10)}\r\n" for i in range(headers))
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{head}Connection: close\r\n\r\n".encode()
    for _ in range(count):
        try:
            with (
                socket.create_connection((host, args.get("port") or 443), timeout=5) as raw,
                ctx.wrap_socket(raw, server_hostname=host) as tls,
            ):
                tls.sendall(request)
                while tls.recv(65536):
                    pass
        except OSError:
            pass


def misbehave(mode: str) -> None:
    if mode == "crash":
        os._exit(3)
    if mode == "hang":
        time.sleep(3600)
    if mode == "garbage":
        sys.stdout.write("this is not JSON {\n")
        sys.stdout.flush()


def scripted(req: dict) -> None:
    app = req["args"].get("app", "")
    if app in ("crash", "hang", "garbage"):
        misbehave(app)
        return
    if app.startswith("crash-after:"):
        for _ in range(int(app.partition(":")[2])):
            sys.stdin.readline()
        misbehave("crash")
    if app.startswith("err:"):
        sys.stderr.write(app[4:] + "\n")
        sys.stderr.flush()
    if app.startswith("slow:"):
        time.sleep(int(app[5:]) / 1000)
    out({"id": req["id"], "ok": {"name": app, "pid": os.getpid()}})


HOSTILE = (
    "surrogate",
    "deep",
    "deaf",
    "stderr-flood",
    "stderr-endless",
    "grandchild",
    "daemon",
    "big",
    "big-unsupported",
    "crash-nth",
    "request-flood",
    "escapes",
)


def main(mode: str, arg: str | None = None) -> int:
    if mode == "escapes-start":
        sys.stderr.write(EVIL + "\n")
        sys.stderr.flush()
        return 3
    state: dict = {"profile": "appc-0.8.11"}
    count = 0
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("op") == "hello":
            if mode.startswith("hello:"):
                reply = reference.answer(req, state)
                sys.stdout.write(hostile_hello(mode[6:], reply))
                sys.stdout.flush()
                continue
            if mode == "daemon":
                spawn_grandchild(arg, hold_stdout=False)
            if mode == "hang-hello":
                time.sleep(3600)
            if mode == "no-profile":
                out({"unsupported": "this adapter supports no profile"})
                continue
            reply = reference.answer(req, state)
            if mode in ("lacks-ops", "scripted"):
                reply["ok"]["ops"] = ["parse_app"]
            reply["ok"]["implementation"]["name"] = f"broken-{mode}"
            if mode == "escapes":
                HELLO_VARIANTS["escapes"](reply["ok"])
            out(reply)
            if mode == "deaf":
                time.sleep(3600)
            continue
        count += 1
        if mode.startswith("hello:") or (mode.partition(":")[0] in HOSTILE and mode != "daemon"):
            hostile(mode, arg, req, state)
            continue
        if mode == "scripted":
            scripted(req)
            continue
        print(f"broken adapter ({mode}) got request {req.get('id')}: {req.get('op')}", file=sys.stderr, flush=True)
        if mode == "wrong":
            out({"id": req["id"], "ok": WRONG.get(req["op"], {"mutant": True})})
        elif mode == "crash" or (mode == "crash-some" and count % 3 == 0):
            print("broken adapter: crashing now", file=sys.stderr, flush=True)
            misbehave("crash")
        elif mode in ("hang", "garbage"):
            misbehave(mode)
        elif mode == "bad-id":
            out({"id": req["id"] + 1000, "ok": {}})
        elif mode == "negate":
            out(negate(reference.answer(req, state), req["op"]))
        elif mode == "daemon":
            out(reference.answer(req, state))
        else:  # crash-some, lacks-ops: behave like the reference
            out(reference.answer(req, state))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], *sys.argv[2:3]))
