"""Adapter for the ``actool`` CLI: one ``actool discover`` process per request.

The tool is a black box: the adapter builds its command line, reads its exit status,
stdout and stderr, and translates. What actool does is reported as it is, also where it
differs from the library (e.g. it exits 1 when no public key is found, AMB-13).

actool's ``discover --json`` output (actool/discover.go, v0.8.11): for each failed walk
attempt a text line ``discover endpoints walk: prefix: P error: E`` (or ``discover public
keys walk: ...``) on stdout, *before* the JSON; then ``{"ACIEndpoints": [{"ACI", "ASC"}] or
null, "PublicKeys": [...] or null}`` indented over several lines. Errors go to stderr with
exit status 1: ``error fetching endpoints for APP: ...`` or ``error fetching public keys for
APP: ...``. Flag errors and unknown subcommands exit 2 (``flag provided but not defined: -port``
from an actool built without ``--port``), and so does a Go panic. actool also adds the labels
``os`` and ``arch`` of its own build (linux/amd64 here) when the app string has none.

What is actool's verdict and what is not: exit 1 with ``error fetching ...`` is a rejection
(``discovery-failed``). A usage error, a panic, a kill after the time limit, an exit by a
signal, a binary that cannot be started, exit 0 without a JSON document, and any exception
in this adapter mean actool did not run to a verdict: they are answered ``failed`` (adapter
protocol 1.1; to a harness of protocol 1.0 that cannot take it, an error of kind ``other``).

Environment: ``ACTOOL`` (path of the binary, default: ``actool`` on PATH, then
/usr/bin/actool), ``APPC_ACTOOL_TIMEOUT`` (seconds per actool run, default 20),
``APPC_ACTOOL_PROFILES`` (the profiles this actool claims, comma-separated; default
appc-0.8.11). ``SSL_CERT_FILE`` is passed on to actool unchanged. The adapter's own arguments
say the same and win over the environment: ``--actool PATH`` and ``--profile NAME``
(repeatable), e.g. ``python -m appc_conformance.conformance.adapters.actool --actool ./actool --profile
appc-imagetags`` for an actool built from a spec change (conformance/adapters/go/build.py
builds one from any appc/spec tree).

``--port``: at the hello the adapter asks ``actool help discover`` whether this actool has a
``--port`` flag. One that has it declares the ``custom-port`` feature; one without it (older
releases) does not, so the harness runs its discovery cases in the 443/80 mode (or skips them
where it cannot bind those ports) instead of every case failing on a usage error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

PROFILE = "appc-0.8.11"
PROTOCOL = 1
FAILED_MINOR = 1  # the protocol minor version that has the ``failed`` answer
USAGE_STATUS = 2  # actool's exit status for a flag error or an unknown subcommand (and Go panics)
OPS = ["discover"]
DEFAULT_TIMEOUT = 20.0
INSTALL = "apt-get install appc-spec"

_ATTEMPT = re.compile(r"^discover (endpoints|public keys) walk: prefix: (.*?) error: (.*)$")


class Answer(Exception):
    """Raised by handlers to give a non-ok answer."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.body = body


def error(kind: str, message: str) -> Answer:
    return Answer({"error": {"kind": kind, "message": message}})


def unsupported(reason: str) -> Answer:
    return Answer({"unsupported": reason})


def bad_request(message: str) -> Answer:
    return Failed(f"malformed request: {message}")


class Failed(Answer):
    """actool or this adapter could not run: never the implementation's verdict."""

    def __init__(self, message: str) -> None:
        super().__init__({"failed": {"message": message}})
        self.message = message

    def for_harness(self, can_fail: bool) -> dict[str, Any]:
        """The answer a harness of protocol 1.0 (no ``failed``) can take: an error of kind other."""
        return self.body if can_fail else {"error": {"kind": "other", "message": self.message}}


def find_actool(given: str | None = None) -> str | None:
    if given:
        path = given if os.sep in given else shutil.which(given)
        return path if path and os.access(path, os.X_OK) else None
    env = os.environ.get("ACTOOL")
    if env:
        return env if os.access(env, os.X_OK) else None
    found = shutil.which("actool")
    if found:
        return found
    return "/usr/bin/actool" if os.access("/usr/bin/actool", os.X_OK) else None


def timeout_seconds() -> float:
    try:
        value = float(os.environ.get("APPC_ACTOOL_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def run_actool(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    """Run actool; returns (exit status, stdout, stderr), status None on timeout (killed)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def parse_output(stdout: str) -> tuple[dict[str, Any] | None, list[dict[str, str]], list[str]]:
    """Split actool's stdout into (JSON document or None, attempts, other lines)."""
    attempts: list[dict[str, str]] = []
    other: list[str] = []
    lines = stdout.splitlines()
    doc = None
    for i, line in enumerate(lines):
        if line.startswith("{"):
            try:
                doc = json.loads("\n".join(lines[i:]))
            except ValueError:
                other.extend(lines[i:])
            break
        m = _ATTEMPT.match(line)
        if m:
            what = "aci" if m.group(1) == "endpoints" else "pubkeys"
            attempts.append({"prefix": m.group(2), "error": m.group(3), "what": what})
        elif line.strip():
            other.append(line)
    return doc, attempts, other


def claimed_profiles(given: list[str] | None = None) -> list[str]:
    """The profiles to claim: ``--profile`` values, else $APPC_ACTOOL_PROFILES, else appc-0.8.11."""
    if given:
        return list(dict.fromkeys(given))
    env = [p.strip() for p in os.environ.get("APPC_ACTOOL_PROFILES", "").split(",") if p.strip()]
    return list(dict.fromkeys(env)) or [PROFILE]


def parse_args(argv: list[str]) -> tuple[str | None, list[str]]:
    """The adapter's own arguments: ``--actool PATH`` and ``--profile NAME`` (repeatable)."""
    import argparse  # noqa: PLC0415

    ap = argparse.ArgumentParser(
        prog="python -m appc_conformance.conformance.adapters.actool",
        description="adapter protocol over the actool CLI (stdin/stdout)",
    )
    ap.add_argument("--actool", metavar="PATH", help="the actool binary (default: $ACTOOL, else actool on PATH)")
    ap.add_argument(
        "--profile",
        action="append",
        metavar="NAME",
        help="a profile this actool claims (repeatable; default: $APPC_ACTOOL_PROFILES, else appc-0.8.11)",
    )
    args = ap.parse_args(argv)
    return args.actool, claimed_profiles(args.profile)


class Adapter:
    def __init__(self, actool: str | None = None, profiles: list[str] | None = None) -> None:
        self.actool = find_actool(actool)
        self.actool_given = actool
        self.profiles = profiles or claimed_profiles()
        self.has_port: bool | None = None  # does this actool have --port? (asked at the hello)
        self.declined: str | None = None
        self.can_fail = False  # the harness said protocol_minor >= 1: ``failed`` answers are known

    def _tool(self) -> str:
        """The actool executable (the hello declines every profile without one)."""
        if self.actool is None:
            raise OSError("actool is not installed")
        return self.actool

    # -------------------------------------------------------------- hello
    def hello(self, req: dict[str, Any]) -> dict[str, Any]:
        self.declined = None
        minor = req.get("protocol_minor")
        self.can_fail = isinstance(minor, int) and not isinstance(minor, bool) and minor >= FAILED_MINOR
        protocol = req.get("protocol", PROTOCOL)
        if protocol is not None and protocol != PROTOCOL:
            self.declined = f"adapter speaks protocol {PROTOCOL}, not {protocol!r}"
            return {"unsupported": self.declined}
        profile = req.get("profile") or self.profiles[0]
        if profile not in self.profiles:
            self.declined = (
                f"this actool claims profile {', '.join(self.profiles)} only, not {profile!r}"
                if self.profiles != [PROFILE]
                else f"actool 0.8.11 implements profile {PROFILE} only, not {profile!r}"
            )
            return {"unsupported": self.declined}
        if self.actool is None:
            self.declined = (
                f"actool {self.actool_given} is not an executable"
                if self.actool_given
                else f"actool is not installed; install it with: {INSTALL}"
            )
            return {"unsupported": self.declined}
        version = self.actool_version()
        if version is None:
            self.declined = f"{self.actool} version did not run; reinstall with: {INSTALL}"
            return {"unsupported": self.declined}
        return {
            "ok": {
                "implementation": {
                    "name": "actool",
                    "version": version,
                    "language": "go",
                    "homepage": "https://github.com/appc/spec",
                },
                "profiles": self.profiles,
                "ops": OPS,
                "features": ["custom-port"] if self.port_flag() else [],
            }
        }

    def port_flag(self) -> bool:
        """Whether this actool's discover has ``--port`` (``actool help discover`` lists it)."""
        if self.has_port is None:
            try:
                _status, out, err = run_actool([self._tool(), "help", "discover"], timeout_seconds())
            except OSError as exc:
                print(f"actool adapter: actool help discover: {exc}", file=sys.stderr)
                out = err = ""
            self.has_port = re.search(r"(^|\s)-{1,2}port\b", out + err, re.MULTILINE) is not None
            if not self.has_port:
                print("actool adapter: this actool has no --port: discovery runs on ports 443/80", file=sys.stderr)
        return self.has_port

    def actool_version(self) -> str | None:
        try:
            status, out, err = run_actool([self._tool(), "version"], timeout_seconds())
        except OSError as exc:
            print(f"actool adapter: {exc}", file=sys.stderr)
            return None
        if status != 0:
            print(f"actool adapter: actool version: status {status}: {err.strip()}", file=sys.stderr)
            return None
        words = out.split()
        return words[-1] if words else None

    # -------------------------------------------------------------- requests
    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if not isinstance(op, str):
            raise bad_request('"op" must be a string')
        if self.declined is not None:
            raise unsupported(self.declined)
        if op not in OPS:
            raise unsupported(f"op {op!r} is not implemented by the actool adapter")
        args = req.get("args")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise bad_request('"args" must be an object')
        return self.discover(args)

    def discover(self, args: dict[str, Any]) -> dict[str, Any]:
        app = args.get("app")
        if not isinstance(app, str):
            raise bad_request('argument "app" must be a string')
        what = args.get("what")
        if what is None:
            what = ["aci", "pubkeys"]
        if not isinstance(what, list) or not all(isinstance(w, str) for w in what):
            raise bad_request('argument "what" must be a list of strings')
        for w in what:
            if w == "imagetags":
                raise unsupported("actool 0.8.11 has no image tags discovery")
            if w not in ("aci", "pubkeys"):
                raise unsupported(f"discovery of {w!r} is not known to the adapter")

        port = args.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
            raise bad_request('argument "port" must be an integer in 0..65535 or null')

        insecure = args.get("insecure") or []
        if not isinstance(insecure, list) or not all(isinstance(i, str) for i in insecure):
            raise bad_request('argument "insecure" must be a list of strings')
        wanted = set(insecure)
        if not wanted <= {"tls", "http"}:
            raise unsupported(f"insecure options {sorted(wanted - {'tls', 'http'})} are not known")
        if wanted and wanted != {"tls", "http"}:
            raise unsupported(
                f"actool has one --insecure flag (TLS and HTTP together); it cannot allow only {sorted(wanted)}"
            )

        headers = args.get("headers")
        if headers:
            raise unsupported("actool discover cannot send per-host headers")

        if self.actool is None:
            raise Failed(f"actool is not installed; install it with: {INSTALL}")
        if port and not self.port_flag():
            raise unsupported(f"this actool has no --port flag: it cannot use port {port}, only 443 and 80")
        argv = [self.actool, "discover", "--json"]
        if port:
            argv += ["--port", str(port)]
        if wanted:
            argv.append("--insecure")
        argv += ["--", app]  # "--": an app string that starts with "-" is not a flag

        timeout = timeout_seconds()
        try:
            status, out, err = run_actool(argv, timeout)
        except OSError as exc:
            raise Failed(f"cannot run actool {self.actool}: {exc}") from None
        doc, attempts, other = parse_output(out)
        err = err.strip()
        if status is None:
            raise Failed(
                f"actool did not finish within {timeout:g}s and was killed" + (f"; stderr: {err}" if err else "")
            )
        if status != 0:
            raise self.failure(status, err, attempts, other)
        if not isinstance(doc, dict):
            raise Failed(f"actool exited 0 without a JSON document; stdout: {out[:500]!r}")
        result: dict[str, Any] = {}
        for w in dict.fromkeys(what):
            if w == "aci":
                eps = doc.get("ACIEndpoints") or []
                result["aci"] = [{"aci": e.get("ACI", ""), "asc": e.get("ASC", "")} for e in eps if isinstance(e, dict)]
            else:
                result["pubkeys"] = [k for k in (doc.get("PublicKeys") or []) if isinstance(k, str)]
        result["attempts"] = [a for a in attempts if a["what"] in what]
        return result

    @staticmethod
    def failure(status: int, stderr: str, attempts: list[dict[str, str]], other: list[str]) -> Answer:
        """The answer for a non-zero exit: a rejection, or ``Failed`` when actool did not run."""
        detail = stderr or "(no stderr)"
        if attempts:
            detail += "; " + "; ".join(f"{a['what']} prefix {a['prefix']}: {a['error']}" for a in attempts)
        if other:
            detail += "; stdout: " + " | ".join(other)
        if "panic:" in stderr:
            lines = stderr.splitlines()
            where = [ln.strip() for ln in lines if ".go:" in ln][:2]
            first = next((ln for ln in lines if ln.startswith("panic:")), lines[0])
            return Failed(f"actool crashed (exit {status}): {first}" + (f" at {', '.join(where)}" if where else ""))
        if status == USAGE_STATUS or status < 0:  # a flag or subcommand it does not know; a signal
            why = "was killed by signal " + str(-status) if status < 0 else f"exit {status}: usage error"
            return Failed(f"actool did not run ({why}): {detail}")
        if status == 1 and (
            stderr.startswith("error fetching endpoints for ") or stderr.startswith("error fetching public keys for ")
        ):
            return error("discovery-failed", f"actool exit 1: {detail}")
        if stderr.startswith("error generating JSON"):
            return Failed(f"actool exit {status}: {detail}")
        return error("other", f"actool exit {status}: {detail}")


def respond(out, body: dict[str, Any]) -> None:
    out.write(json.dumps(body) + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    adapter = Adapter(*parse_args(sys.argv[1:] if argv is None else argv))
    out = sys.stdout
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        req_id: Any = None
        has_id = False
        is_hello = False
        try:
            try:
                req = json.loads(raw)
            except ValueError as exc:
                raise bad_request(str(exc)) from None
            if not isinstance(req, dict):
                raise bad_request("a request is a JSON object")
            has_id = "id" in req
            req_id = req.get("id")
            is_hello = req.get("op") == "hello"
            if is_hello:
                body = adapter.hello(req)
            elif req_id is None:
                raise bad_request('missing "id"')
            else:
                body = {"ok": adapter.handle(req)}
        except Failed as ans:
            body = ans.for_harness(adapter.can_fail)
        except Answer as ans:
            body = ans.body
        except Exception as exc:  # noqa: BLE001 - never die on one request
            print(f"actool adapter: {exc!r}", file=sys.stderr)
            body = Failed(f"adapter error: {exc!r}").for_harness(adapter.can_fail)
        if has_id or not is_hello:  # hello without an id is answered without one
            body = {"id": req_id, **body}
        respond(out, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
