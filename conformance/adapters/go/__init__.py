"""Adapter over the appc/spec Go library: Debian's v0.8.11 (golang-github-appc-spec-dev) by
default, or any appc/spec tree given with --spec-src / APPC_SPEC_SRC.

``build.build()`` compiles ``adapter.go`` with the ``lib_*.go`` files that the probes of
``probes/`` select for the tree, and returns the binary; the binary is the adapter process.
``python -m appc_conformance.conformance.adapters.go`` builds (or reuses) it and runs it.
"""
