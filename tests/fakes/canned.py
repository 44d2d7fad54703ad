"""What the fake adapters answer, shared by the miniatures (tests/miniatures.py, in-process)
and tests/fakes/broken.py (a process): canned wrong answers and spoilt handshakes. No imports,
so a fake process pays nothing for it."""

#: A well-formed result no case expects, per op (the ``wrong`` fakes).
WRONG = {
    "parse_app": {"name": "mutant.invalid/wrong", "tag": "mutant", "labels": {"mutant": "1"}},
    "validate_imagetags": {"valid": "mutant"},
    "validate_manifest": {"valid": "mutant"},
    "resolve_tag": {"labels": {"mutant": "1"}},
    "merge_tag": {"labels": {"mutant": "1"}},
    "match_manifest": {"matches": "mutant"},
    "discover": {
        "aci": [{"aci": "mutant:aci", "asc": "mutant:asc"}],
        "pubkeys": ["mutant:key"],
        "imagetags": [{"url": "mutant:json", "asc": "mutant:asc"}],
    },
    "resolve": {
        "labels": {"mutant": "1"},
        "aci": [{"aci": "mutant:aci", "asc": "mutant:asc"}],
        "pubkeys": ["mutant:key"],
    },
}

#: Text meant to break what shows it: terminal escapes (clear screen, a window title, a carriage
#: return that forges a verdict line), HTML and Markdown (the ``escapes`` fakes).
EVIL = (
    "x\x1b[2J\x1b]0;owned\x07\r\x1b[KPASSED all <img src=x onerror=alert(1)> <script>alert(1)</script> "
    "| forged | cell <!-- hidden --> *bold* [link](javascript:alert(1)) \u202eevil\x9b31m"
)
#: How ``hello:VARIANT`` spoils the handshake answer's ``ok`` (``hello:deep`` is ``deep_hello``).
HELLO_VARIANTS = {
    "escapes": lambda ok: ok["implementation"].update(name="broken" + EVIL, version="1" + EVIL),
    "impl-string": lambda ok: ok.update(implementation="broken"),
    "name-int": lambda ok: ok["implementation"].update(name=7),
    "version-list": lambda ok: ok["implementation"].update(version=["1"]),
    "name-empty": lambda ok: ok["implementation"].update(name=""),
    "ops-string": lambda ok: ok.update(ops="parse_app"),
    "ops-ints": lambda ok: ok.update(ops=[1, 2]),
    "profiles-string": lambda ok: ok.update(profiles="appc-0.8.11"),
    "features-dict": lambda ok: ok.update(features={"custom-port": True}),
    "protocol-2": lambda ok: ok.update(protocol=2),
    "no-ops": lambda ok: ok.update(ops=[]),
    "surrogate": lambda ok: ok["implementation"].update(name="broken\ud800"),
}
DEEP = 100_000  # levels of nesting of ``deep`` answers and of ``hello:deep``


def deep_hello() -> str:
    """A handshake answer nested DEEP levels deep, as a line without its newline."""
    return '{"ok": {"implementation": ' + "[" * DEEP + "]" * DEEP + "}}"
