"""Adapter over the appc/spec Go library (v0.8.11, Debian's golang-github-appc-spec-dev).

``build.build()`` compiles ``adapter.go`` and returns the binary; the binary is the adapter
process. ``python -m appc_conformance.conformance.adapters.go`` builds (or reuses) it and runs it.
"""
