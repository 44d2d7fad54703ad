"""Generated discovery pages and host layouts (mock hosts on loopback, servers/) through
``discover``: which levels of the walk answer, with which meta tags, prefixes and templates."""

from appc_conformance.conformance.generated import strategies


def test_discover(generated, profile):
    generated.run_discovery("discover", profile, strategies.discovery_cases(profile), "test_discover", weight=0.5)
