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
  ``hang`` and ``garbage`` as the modes of those names; ``err:TEXT`` writes TEXT to stderr,
  then answers; ``slow:MS`` waits MS milliseconds, then answers. Any other string is answered
  with ``{"name": APP, "pid": PID}``: the process id shows which process answered.
"""
from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from conformance.adapters.reference import __main__ as reference  # noqa: E402

WRONG = {
    "parse_app": {"name": "mutant.invalid/wrong", "tag": "mutant", "labels": {"mutant": "1"}},
    "validate_imagetags": {"valid": "mutant"},
    "validate_manifest": {"valid": "mutant"},
    "resolve_tag": {"labels": {"mutant": "1"}},
    "merge_tag": {"labels": {"mutant": "1"}},
    "match_manifest": {"matches": "mutant"},
    "discover": {"aci": [{"aci": "mutant:aci", "asc": "mutant:asc"}], "pubkeys": ["mutant:key"],
                 "imagetags": [{"url": "mutant:json", "asc": "mutant:asc"}]},
    "resolve": {"labels": {"mutant": "1"}, "aci": [{"aci": "mutant:aci", "asc": "mutant:asc"}],
                "pubkeys": ["mutant:key"]},
}


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
    if app.startswith("err:"):
        sys.stderr.write(app[4:] + "\n")
        sys.stderr.flush()
    if app.startswith("slow:"):
        time.sleep(int(app[5:]) / 1000)
    out({"id": req["id"], "ok": {"name": app, "pid": os.getpid()}})


def main(mode: str) -> int:
    state: dict = {"profile": "appc-0.8.11"}
    count = 0
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("op") == "hello":
            if mode == "hang-hello":
                time.sleep(3600)
            if mode == "no-profile":
                out({"unsupported": "this adapter supports no profile"})
                continue
            reply = reference.answer(req, state)
            if mode in ("lacks-ops", "scripted"):
                reply["ok"]["ops"] = ["parse_app"]
            reply["ok"]["implementation"]["name"] = f"broken-{mode}"
            out(reply)
            continue
        count += 1
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
        else:  # crash-some, lacks-ops: behave like the reference
            out(reference.answer(req, state))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
