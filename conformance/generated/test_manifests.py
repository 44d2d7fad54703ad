"""Generated image manifests (labels, dependencies, annotations, header members, with mistakes)
through ``validate_manifest``, and manifests with app strings asking for their labels through
``match_manifest``."""

from appc_conformance.conformance.generated import strategies


def test_validate_manifest(generated, profile):
    generated.run("validate_manifest", profile, strategies.validate_manifest_args(), "test_validate_manifest")


def test_match_manifest(generated, profile):
    generated.run("match_manifest", profile, strategies.match_manifest_args(), "test_match_manifest")
