"""Generated app strings (names from AC Identifier pieces and near misses, colons, commas,
keys and odd values) through ``parse_app``, compared with the reference."""

from appc_conformance.conformance.generated import strategies


def test_parse_app(generated, profile):
    generated.run("parse_app", profile, strategies.parse_app_args(), "test_parse_app")
