"""The adapter protocol (1.1) as JSON Schema: one schema per message, in this folder.

``hello.request``/``hello.answer``, ``OP.request``/``OP.answer`` for each operation, and the
three answers every operation may give instead of ``ok``: ``error.answer`` (with the error
kinds), ``unsupported.answer`` and ``failed.answer``. ``common.schema.json`` holds what they
share; references between the files are relative to this folder (Draft 2020-12).

The harness checks the messages against them only when asked (``--validate-adapter``); the
default path never imports jsonschema for this. Implementers can check a transcript offline::

    python -m appc_conformance.conformance.protocol requests.jsonl answers.jsonl

(docs/ADAPTERS.md, "Checking an adapter against the schemas").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appc_conformance.conformance.vectors import OPS  # the protocol's operations, defined once

SCHEMA_DIR = Path(__file__).resolve().parent
# Every message of the protocol: hello, each operation's request and answer, and the answers
# any operation may give instead of ``ok``.
MESSAGES = (
    "hello.request",
    "hello.answer",
    *(f"{op}.{d}" for op in OPS for d in ("request", "answer")),
    "error.answer",
    "unsupported.answer",
    "failed.answer",
)


def schema_file(message: str) -> Path:
    return SCHEMA_DIR / f"{message}.schema.json"


def load_all() -> dict[str, dict]:
    """Every schema of the folder by file name (``common.schema.json`` included)."""
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SCHEMA_DIR.glob("*.schema.json"))}


class Validator:
    """Checks protocol messages against the schemas; ``check`` gives None or why not."""

    def __init__(self) -> None:
        import jsonschema  # noqa: PLC0415 (only a run that validates the protocol needs it)
        from referencing import Registry, Resource  # noqa: PLC0415 (jsonschema's own dependency)
        from referencing.jsonschema import DRAFT202012  # noqa: PLC0415

        schemas = load_all()
        registry = Registry().with_resources(
            (name, Resource.from_contents(doc, default_specification=DRAFT202012)) for name, doc in schemas.items()
        )
        self._best = jsonschema.exceptions.best_match
        self._validators = {
            name[: -len(".schema.json")]: jsonschema.Draft202012Validator(doc, registry=registry)
            for name, doc in schemas.items()
            if name != "common.schema.json"
        }

    def knows(self, message: str) -> bool:
        return message in self._validators

    def check(self, message: str, instance: Any) -> str | None:
        """Why ``instance`` breaks the schema of ``message`` (``parse_app.answer``, say): where
        in the message, what, and the schema file and path that failed; None when it is valid
        (or when there is no schema of that name: an operation the protocol does not define)."""
        validator = self._validators.get(message)
        if validator is None:
            return None
        error = self._best(validator.iter_errors(instance))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_schema_path)
        text = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        return f"breaks the protocol schema {message}.schema.json at {error.json_path}: {text} (schema path: {where})"

    def request(self, op: str, request: dict) -> str | None:
        return self.check(f"{op}.request", request)

    def answer(self, op: str, answer: Any) -> str | None:
        return self.check(f"{op}.answer", answer)


def check_transcript(requests: list[Any], answers: list[Any]) -> list[str]:
    """Problems of a transcript: ``requests`` as the suite sends them (a hello first, then
    requests with ids), ``answers`` as the adapter wrote them. The protocol answers in request
    order, so the Nth answer is checked against the answer schema of the Nth request's operation
    (the hello's answer against ``hello.answer``), and must carry that request's id."""
    v = Validator()
    problems = []
    for n, req in enumerate(requests, 1):
        op = req.get("op") if isinstance(req, dict) else None
        if op == "hello":
            why = v.check("hello.request", req)
        elif op in OPS:
            why = v.request(op, req)
        else:
            why = f"op {op!r} is not an operation of the protocol"
        if why:
            problems.append(f"request {n}: {why}")
    for n, ans in enumerate(answers, 1):
        req = requests[n - 1] if n <= len(requests) else None
        op = req.get("op") if isinstance(req, dict) else None
        if req is None:
            why = f"answers no request (the transcript has {len(requests)} requests)"
        elif op == "hello":
            why = v.check("hello.answer", ans)
        elif op in OPS:
            why = v.answer(op, ans)
            if why is None and ans.get("id") != req.get("id"):
                why = f"its id {ans.get('id')!r} is not the id of request {n} ({req.get('id')!r})"
        else:
            why = None  # the request is already reported
        if why:
            problems.append(f"answer {n}: {why}")
    if len(answers) < len(requests):
        problems.append(f"requests {len(answers) + 1} to {len(requests)} have no answer")
    return problems


def _read_lines(path: str) -> list[Any]:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError as exc:
                    raise SystemExit(f"{path}:{n}: not JSON: {exc}") from None
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    p = argparse.ArgumentParser(
        prog="python -m appc_conformance.conformance.protocol",
        description="Check an adapter's transcript against the protocol's JSON Schemas: REQUESTS "
        "holds the lines sent to the adapter (a hello first), ANSWERS the lines it wrote.",
    )
    p.add_argument("requests")
    p.add_argument("answers")
    args = p.parse_args(argv)
    problems = check_transcript(_read_lines(args.requests), _read_lines(args.answers))
    for problem in problems:
        print(problem)
    if not problems:
        print("every message is valid (adapter protocol 1.1)")
    return 1 if problems else 0
