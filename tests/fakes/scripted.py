"""An adapter whose behaviour each request chooses, to test the harness's transport.

    python tests/fakes/scripted.py

It implements only ``parse_app``, and the app string says what to do:
``crash`` exits at once; ``hang`` never answers; ``garbage`` writes a line that is not JSON;
``err:TEXT`` writes TEXT to stderr, then answers; ``slow:MS`` waits MS milliseconds, then
answers. Any other string is answered with ``{"name": APP, "pid": PID}``: the process id shows
which process answered (after a restart it changes).
"""
from __future__ import annotations

import json
import os
import sys
import time


def answer(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> int:
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("op") == "hello":
            answer({"ok": {"implementation": {"name": "scripted", "version": "0", "language": "python",
                                              "homepage": ""},
                           "profiles": [req["profile"]], "ops": ["parse_app"], "features": []}})
            continue
        app = req["args"].get("app", "")
        if app == "crash":
            os._exit(3)
        if app == "hang":
            time.sleep(3600)
        if app == "garbage":
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
            continue
        if app.startswith("err:"):
            sys.stderr.write(app[4:] + "\n")
            sys.stderr.flush()
        if app.startswith("slow:"):
            time.sleep(int(app[5:]) / 1000)
        answer({"id": req["id"], "ok": {"name": app, "pid": os.getpid()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
