#!/usr/bin/env python3
"""A stand-in for a real ACE's command line, so that the example adapter runs as it is.

    fake_ace.py --store DIR [options] fetch APP [--image-id ID] [--size N]
    fake_ace.py --store DIR image cat-manifest ID

``fetch`` discovers, downloads and verifies an image and keeps it in the store; it prints the
image ID on stdout. ``image cat-manifest`` prints the stored image's manifest. Failures print
``error: CATEGORY: message`` on stderr and exit 1, as a real ACE prints its own messages.

The work itself is done by the suite's reference implementation (imported from the suite), so
this stand-in is only a command-line shape: replace it with your ACE.
"""

import argparse
import json
import os
import sys


def main(argv):
    ap = argparse.ArgumentParser(prog="fake_ace")
    ap.add_argument("--store", required=True)
    ap.add_argument("--profile", default="appc-0.8.11")
    ap.add_argument("--trust", action="append", default=[], metavar="PREFIX=KEYFILE")
    ap.add_argument("--trust-discovered-keys", action="store_true")
    ap.add_argument("--insecure-skip-verify", action="store_true", help="no signature checks")
    ap.add_argument("--insecure-tls", action="store_true")
    ap.add_argument("--insecure-http", action="store_true")
    ap.add_argument("--port", type=int)
    ap.add_argument("--ca-file")
    ap.add_argument("--auth", action="append", default=[], metavar="HOST=HEADER:VALUE")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("app")
    f.add_argument("--image-id")
    f.add_argument("--size", type=int)
    f.add_argument("--tag")
    img = sub.add_parser("image")
    img.add_argument("action", choices=["cat-manifest"])
    img.add_argument("id")
    a = ap.parse_args(argv)

    if a.cmd == "image":
        path = os.path.join(a.store, a.id + ".manifest")
        if not os.path.exists(path):
            print(f"error: store: no image {a.id}", file=sys.stderr)
            return 1
        sys.stdout.write(open(path, encoding="utf-8").read())
        return 0

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    from appc_conformance.conformance.adapters.reference import core, fetch
    from appc_conformance.conformance.adapters.reference.errors import RefError, Unsupported

    keys = []
    for t in a.trust:
        prefix, _, keyfile = t.rpartition("=")
        keys.append({"prefix": prefix, "key": open(keyfile, encoding="ascii").read()})
    headers = {}
    for h in a.auth:
        host, _, rest = h.partition("=")
        name, _, value = rest.partition(":")
        headers.setdefault(host, {}).setdefault(name, []).append(value)
    args = {
        "trust": {
            "keys": keys,
            "verify_signatures": not a.insecure_skip_verify,
            "trust_discovered_keys": a.trust_discovered_keys,
        },
        "port": a.port,
        "headers": headers,
        "insecure": (["tls"] if a.insecure_tls else []) + (["http"] if a.insecure_http else []),
    }
    if a.image_id or a.size is not None or a.tag:
        # a dependency: NAME[,k=v]* plus what only a dependency has
        parsed = core.parse_app(a.app, core.PROFILE_0811)
        dep = {"imageName": parsed["name"], "labels": [{"name": k, "value": v} for k, v in parsed["labels"].items()]}
        if a.image_id:
            dep["imageID"] = a.image_id
        if a.size is not None:
            dep["size"] = a.size
        if a.tag:
            dep["tag"] = a.tag
        args["dependency"] = dep
    else:
        args["app"] = a.app
    try:
        result = fetch.fetch(args, a.profile, a.ca_file)
    except RefError as exc:
        print(f"error: {exc.kind}: {exc.message}", file=sys.stderr)
        return 1
    except Unsupported as exc:
        print(f"error: unsupported: {exc}", file=sys.stderr)
        return 1
    manifest = {
        "acKind": "ImageManifest",
        "acVersion": "0.8.11",
        "name": result["name"],
        "labels": [{"name": k, "value": v} for k, v in result["labels"].items()],
    }
    with open(os.path.join(a.store, result["image_id"] + ".manifest"), "w", encoding="utf-8") as out:
        json.dump(manifest, out)
    with open(os.path.join(a.store, result["image_id"] + ".urls"), "w", encoding="utf-8") as out:
        json.dump(result["urls"], out)
    print(result["image_id"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
