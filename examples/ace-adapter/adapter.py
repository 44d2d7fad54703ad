#!/usr/bin/env python3
"""An adapter that maps the suite's ``fetch`` onto an ACE's command line (adapter protocol 1.1).

For each request it makes a scratch store, writes the trusted keys to files, runs the ACE's
fetch command with the request translated into command-line options, reads the image ID it
prints and the manifest it keeps, and removes the store. An error message of the ACE becomes
one of the protocol's error kinds.

``ACE`` below is the command to run. It defaults to ``fake_ace.py`` beside this file, a
stand-in with the command-line shape of a real ACE; set ``ACE_COMMAND`` (a command line) to
drive another one, and adapt ``ace_fetch_argv`` and ``KINDS`` to its options and messages.

    pytest vectors --case 'fetch/*' --adapter-cmd "python examples/ace-adapter/adapter.py"
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ACE = shlex.split(os.environ.get("ACE_COMMAND", "")) or [sys.executable, os.path.join(HERE, "fake_ace.py")]
PROFILES = ["appc-0.8.11", "appc-imagetags"]
TIMEOUT = 9.0  # below the suite's default 10 s per request
STATE = {"profile": None, "ca_file": None, "can_fail": False}

# The ACE's error categories (the word after "error:") -> the protocol's error kinds. A real
# ACE needs a table of message patterns here; anything unknown becomes "other".
KINDS = {
    k: k
    for k in (
        "signature-missing",
        "signature-invalid",
        "key-not-trusted",
        "manifest-mismatch",
        "image-id-mismatch",
        "size-exceeded",
        "not-an-image",
        "discovery-failed",
        "fetch-failed",
        "invalid-manifest",
        "invalid-app-string",
        "invalid-identifier",
        "invalid-imagetags",
        "alias-cycle",
        "tag-not-found",
        "version-conflict",
    )
}


class Rejected(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


class Failed(Exception):
    """The ACE could not run (not an answer about the input)."""


def ace_fetch_argv(args, store):
    """The ACE's command line for one fetch request, keys written into ``store``."""
    argv = ACE + ["--store", store, "--profile", STATE["profile"]]
    trust = args.get("trust") or {}
    for i, k in enumerate(trust.get("keys") or []):
        path = os.path.join(store, f"key-{i}.asc")
        with open(path, "w", encoding="ascii") as f:
            f.write(k["key"])
        argv += ["--trust", f"{k['prefix']}={path}"]
    if trust.get("trust_discovered_keys"):
        argv.append("--trust-discovered-keys")
    if trust.get("verify_signatures") is False:
        argv.append("--insecure-skip-verify")
    insecure = args.get("insecure") or []
    argv += ["--insecure-tls"] * ("tls" in insecure) + ["--insecure-http"] * ("http" in insecure)
    if args.get("port") is not None:
        argv += ["--port", str(args["port"])]
    if STATE["ca_file"]:
        argv += ["--ca-file", STATE["ca_file"]]
    for host, hs in (args.get("headers") or {}).items():
        for name, values in hs.items():
            for v in [values] if isinstance(values, str) else values:
                argv += ["--auth", f"{host}={name}:{v}"]
    argv.append("fetch")
    if "dependency" in args:  # a dependency: its name and labels as an app string, the rest as options
        dep = args["dependency"]
        app = ",".join([dep["imageName"]] + [f"{lb['name']}={lb['value']}" for lb in dep.get("labels", [])])
        argv.append(app)
        if "imageID" in dep:
            argv += ["--image-id", dep["imageID"]]
        if "size" in dep:
            argv += ["--size", str(dep["size"])]
        if "tag" in dep:
            argv += ["--tag", dep["tag"]]
    else:
        argv.append(args["app"])
    return argv


def run_ace(argv):
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError as exc:
        raise Failed(f"the ACE cannot be started: {exc}") from None
    except subprocess.TimeoutExpired:
        raise Failed(f"the ACE did not finish within {TIMEOUT:g} s") from None
    sys.stderr.write(proc.stderr)
    return proc


def fetch(args):
    store = tempfile.mkdtemp(prefix="ace-adapter-store-")
    try:
        proc = run_ace(ace_fetch_argv(args, store))
        if proc.returncode != 0:
            line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")), None)
            if line is None:
                raise Failed(f"the ACE exited {proc.returncode} without an error line")
            category, _, message = line[len("error: ") :].partition(": ")
            if category == "unsupported":
                raise Rejected("unsupported", message)
            raise Rejected(KINDS.get(category, "other"), message or line)
        image_id = proc.stdout.strip().splitlines()[-1]
        shown = run_ace(ACE + ["--store", store, "image", "cat-manifest", image_id])
        if shown.returncode != 0:
            raise Failed("the ACE fetched an image but cannot show its manifest")
        manifest = json.loads(shown.stdout)
        urls_file = os.path.join(store, image_id + ".urls")  # what the stand-in records; optional
        urls = json.load(open(urls_file, encoding="utf-8")) if os.path.exists(urls_file) else None
        result = {
            "image_id": image_id,
            "name": manifest["name"],
            "labels": {lb["name"]: lb["value"] for lb in manifest.get("labels", [])},
        }
        if urls is not None:
            result["urls"] = urls
        return result
    finally:
        shutil.rmtree(store, ignore_errors=True)


def handle(request):
    if request.get("op") == "hello":
        STATE["profile"] = request.get("profile")
        STATE["ca_file"] = request.get("ca_file")
        minor = request.get("protocol_minor")
        STATE["can_fail"] = isinstance(minor, int) and minor >= 1
        if STATE["profile"] not in PROFILES:
            return {"unsupported": f"profile {STATE['profile']!r} is not known"}
        return {
            "ok": {
                "implementation": {
                    "name": "ace-adapter-example",
                    "version": "0.1.0",
                    "language": "python",
                    "homepage": None,
                },
                "profiles": PROFILES,
                "ops": ["fetch"],
                "features": ["custom-port", "host-headers", "ca-file"],
            }
        }
    reply = {"id": request.get("id")}
    try:
        if request.get("op") != "fetch":
            reply["unsupported"] = f"op {request.get('op')!r} is not implemented"
        else:
            reply["ok"] = fetch(request.get("args") or {})
    except Rejected as exc:
        if exc.kind == "unsupported":
            reply["unsupported"] = str(exc)
        else:
            reply["error"] = {"kind": exc.kind, "message": str(exc)}
    except (Failed, KeyError, TypeError, ValueError, OSError) as exc:
        if STATE["can_fail"]:
            reply["failed"] = {"message": f"{type(exc).__name__}: {exc}"}
        else:
            reply["error"] = {"kind": "other", "message": f"{type(exc).__name__}: {exc}"}
    return reply


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as exc:
            request, reply = None, {"id": None, "error": {"kind": "other", "message": f"bad line: {exc}"}}
        if request is not None:
            reply = handle(request)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
