"""Generated image tags documents (alias graphs with chains, forks and cycles; labels entries)
through ``validate_imagetags``, ``resolve_tag`` and ``merge_tag`` (label sets as initial labels)."""

import pytest

from appc_conformance.conformance.generated import strategies

pytestmark = pytest.mark.profiles("appc-imagetags")


def test_validate_imagetags(generated, profile):
    generated.run("validate_imagetags", profile, strategies.validate_imagetags_args(), "test_validate_imagetags")


def test_resolve_tag(generated, profile):
    generated.run("resolve_tag", profile, strategies.resolve_tag_args(), "test_resolve_tag")


def test_merge_tag(generated, profile):
    generated.run("merge_tag", profile, strategies.merge_tag_args(), "test_merge_tag")
