#!/usr/bin/env python3
"""A minimal adapter for the appc conformance suite (adapter protocol 1.1).

It implements a single operation, ``parse_app``, for a single profile, ``appc-0.8.11``,
using nothing but the Python standard library. Copy it as the starting point of your own
adapter: replace ``parse_app_0811`` with a call into your implementation and add ops to
``HANDLERS`` as you wire them up. Everything the harness sends that this file does not know
is answered in a way that makes the case *skip*, never fail.

Run the suite against it from a checkout of the suite:

    pytest vectors --adapter-cmd "python examples/minimal-adapter/adapter.py"
"""

import json
import re
import sys

PROFILE = "appc-0.8.11"
# Protocol 1.1 adds the answer "failed": this adapter could not run the request (a bug here, a
# tool that would not start). It is never a pass. A harness that announces no protocol_minor
# (1.0) does not know it; such a harness gets an error of kind "other" instead.
STATE = {"can_fail": False}

# types.md: an AC Identifier is lowercase URI-unreserved characters, alphanumeric at both ends.
AC_IDENTIFIER = re.compile(r"[a-z0-9]+(?:[-._~/][a-z0-9]+)*")


class Rejected(Exception):
    """The input is invalid; ``kind`` is one of the protocol's error kinds."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def identifier(text, what):
    if AC_IDENTIFIER.fullmatch(text) is None:
        raise Rejected("invalid-identifier", f"{what} {text!r} is not an AC Identifier")
    return text


def parse_app_0811(app):
    """NAME[:VERSION][,KEY=VALUE]* as released in appc 0.8.11.

    The colon is shorthand for the ``version`` label; it may appear once, and only before
    the first comma. Items after a comma are KEY=VALUE, split at their first ``=``. Keys
    are AC Identifiers, each given once (``name`` is taken by the image name). Values are
    kept exactly as written: nothing is percent-decoded.
    """
    head, comma, rest = app.partition(",")
    items = rest.split(",") if comma else []
    if app.count(":") > 1:
        raise Rejected("invalid-app-string", "more than one colon")
    if ":" in rest:
        raise Rejected("invalid-app-string", "a colon may only come right after the name")

    name, colon, version = head.partition(":")
    pairs = [("name", name)]
    if colon:
        pairs.append(("version", version))
    for item in items:
        key, equals, value = item.partition("=")
        if not equals:
            raise Rejected("invalid-app-string", f"item {item!r} is not KEY=VALUE")
        pairs.append((key, value))

    labels = {}
    for key, value in pairs:
        if key in labels:
            raise Rejected("invalid-app-string", f"{key!r} is given more than once")
        labels[key] = value
    name = identifier(labels.pop("name"), "the name")
    for key in labels:
        identifier(key, "the label key")
    # appc-0.8.11 has no tags: the tag is always null.
    return {"name": name, "tag": None, "labels": labels}


HANDLERS = {
    "parse_app": lambda args: parse_app_0811(args["app"]),
}


def hello(request):
    minor = request.get("protocol_minor")
    STATE["can_fail"] = isinstance(minor, int) and minor >= 1
    if request.get("profile") != PROFILE:
        # Declining a profile: the harness reports its cases as not implemented.
        return {"unsupported": f"only {PROFILE} is implemented"}
    return {
        "ok": {
            "implementation": {"name": "minimal-example", "version": "0.1.0", "language": "python", "homepage": None},
            "profiles": [PROFILE],
            "ops": sorted(HANDLERS),
            "features": [],
        }
    }


def failed(request_id, message):
    """The answer when this adapter, not the implementation, could not run a request."""
    if STATE["can_fail"]:
        return {"id": request_id, "failed": {"message": message}}
    return {"id": request_id, "error": {"kind": "other", "message": message}}


def handle(request):
    if request.get("op") == "hello":
        return hello(request)
    reply = {"id": request.get("id")}
    handler = HANDLERS.get(request.get("op"))
    if handler is None:
        reply["unsupported"] = f"op {request.get('op')!r} is not implemented"
        return reply
    try:
        reply["ok"] = handler(request.get("args") or {})
    except Rejected as exc:
        reply["error"] = {"kind": exc.kind, "message": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a bug here must not take the process down, nor pass a case
        return failed(request.get("id"), f"{type(exc).__name__}: {exc}")
    return reply


def main():
    while True:
        line = sys.stdin.readline()
        if not line:  # the harness closed stdin: time to go
            return 0
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as exc:
            request = None
            reply = failed(None, f"bad JSON: {exc}")
        if isinstance(request, dict):
            reply = handle(request)
        elif request is not None:
            reply = failed(None, "request is not an object")
        # One answer per line, flushed at once: the harness waits for it.
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
