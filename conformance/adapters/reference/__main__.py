"""The reference adapter: ``python -m appc_conformance.conformance.adapters.reference``.

Speaks adapter protocol 1.1 on stdin/stdout. Every op of both profiles.
"""

from __future__ import annotations

import json
import sys

from appc_conformance.conformance import __version__

from . import core
from .errors import RefError, Unsupported

PROFILES = [core.PROFILE_0811, core.PROFILE_TAGS]


def _discovery():
    from . import discovery  # noqa: PLC0415 - imported lazily: only discovery cases need it

    return discovery


def handle(op: str, args: dict, profile: str, ca_file: str | None) -> dict:
    if op == "parse_app":
        return core.parse_app(args["app"], profile)
    if op == "validate_manifest":
        return core.validate_manifest(args["document"], profile)
    if op == "match_manifest":
        return core.match_manifest(args["app"], args["manifest"], profile)
    if op == "discover":
        return _discovery().discover(args, profile, ca_file)
    if op == "resolve":
        return _discovery().resolve(args, profile, ca_file)
    if op == "fetch":
        from . import fetch  # noqa: PLC0415 - imported lazily, like discovery

        return fetch.fetch(args, profile, ca_file)
    if profile != core.PROFILE_TAGS:
        raise Unsupported(f"{op} belongs to the image tags profile")
    if op == "validate_imagetags":
        return core.validate_imagetags(args["document"])
    if op == "resolve_tag":
        return core.resolve_tag(args["imagetags"], args["tag"])
    if op == "merge_tag":
        return core.merge_tag(args["imagetags"], args["labels"], args["tag"])
    raise Unsupported(f"unknown op {op!r}")


OPS = [
    "parse_app",
    "validate_imagetags",
    "resolve_tag",
    "merge_tag",
    "discover",
    "resolve",
    "validate_manifest",
    "match_manifest",
    "fetch",
]


def answer(request: dict, state: dict) -> dict:
    if request.get("op") == "hello":
        profile = request.get("profile")
        if profile not in PROFILES:
            return {"unsupported": f"profile {profile!r} is not one of {PROFILES}"}
        state["profile"] = profile
        state["ca_file"] = request.get("ca_file")
        minor = request.get("protocol_minor")  # 1.1 and later have the ``failed`` answer
        state["can_fail"] = isinstance(minor, int) and not isinstance(minor, bool) and minor >= 1
        return {
            "ok": {
                "implementation": {
                    "name": "appc-conformance-reference",
                    "version": __version__,
                    "language": "python",
                    "homepage": None,
                },
                "profiles": PROFILES,
                "ops": OPS,
                "features": ["custom-port", "host-headers", "ca-file"],
            }
        }
    rid = request.get("id")
    try:
        result = handle(request["op"], request.get("args") or {}, state["profile"], state.get("ca_file"))
        return {"id": rid, "ok": result}
    except RefError as exc:
        return {"id": rid, "error": {"kind": exc.kind, "message": exc.message}}
    except Unsupported as exc:
        return {"id": rid, "unsupported": str(exc)}
    except (KeyError, TypeError) as exc:
        return failed(rid, f"malformed request: {exc!r}", state)
    except Exception as exc:  # noqa: BLE001 - a bug here is the adapter's failure, never a verdict
        import traceback  # noqa: PLC0415 - imported only when this path runs (start-up time)

        traceback.print_exc(file=sys.stderr)
        return failed(rid, f"reference adapter error: {exc!r}", state)


def failed(rid, message: str, state: dict) -> dict:
    """The adapter could not run the request: ``failed`` (protocol 1.1), or, to a harness of
    protocol 1.0, an error of kind ``other``."""
    if state.get("can_fail"):
        return {"id": rid, "failed": {"message": message}}
    return {"id": rid, "error": {"kind": "other", "message": message}}


def main() -> int:
    state: dict = {"profile": core.PROFILE_0811}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            reply = failed(None, f"bad request line: {exc}", state)
        else:
            reply = answer(request, state)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
