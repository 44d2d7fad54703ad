"""A raw adapter process for the adapter tests: send any line, read the answer line.

The harness' own client (conformance.adapter) hides malformed exchanges behind verdicts;
these tests want to see them, so they talk to the process directly.
"""

from __future__ import annotations

import json
import os
import queue
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TIMEOUT = 60
PROFILE = "appc-0.8.11"


class AdapterProcess:
    """A running adapter; ``call`` sends one line and returns the parsed answer line."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True).start()
        self.next_id = 1

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in iter(stream.readline, b""):
            sink(line)

    def send_raw(self, line: str) -> dict:
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        try:
            raw = self.lines.get(timeout=ANSWER_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no answer to {line!r}; stderr: {b''.join(self.stderr)!r}")
        assert raw.endswith(b"\n")
        return json.loads(raw)

    def hello(self, profile: str = PROFILE, ca_file: str | None = None) -> dict:
        return self.send_raw(json.dumps({"op": "hello", "protocol": 1, "profile": profile, "ca_file": ca_file}))

    def call(self, op: str, **args) -> dict:
        req_id = self.next_id
        self.next_id += 1
        answer = self.send_raw(json.dumps({"id": req_id, "op": op, "args": args}))
        assert answer.get("id") == req_id, answer
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def page(*metas: tuple[str, str, str]) -> str:
    tags = "\n".join(f'<meta name="{n}" content="{p} {u}">' for n, p, u in metas)
    return f"<!DOCTYPE html>\n<html><head>\n{tags}\n</head><body></body></html>\n"


def make_test_ca(tmp_path_factory):
    """A server TLS context for 127.0.0.1 from a fresh trustme CA, and the CA's PEM file."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ctx, ca_file


def adapter_env(ca_file: Path | None, **extra: str) -> dict[str, str]:
    """This process' environment, with SSL_CERT_FILE set to ``ca_file`` (or removed)."""
    env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
    if ca_file is not None:
        env["SSL_CERT_FILE"] = str(ca_file)
    env.update(extra)
    return env
