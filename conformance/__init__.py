"""appc conformance suite: vectors, adapters, harness."""

__version__ = "0.1.0"
