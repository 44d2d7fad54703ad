"""Adapter over the ``actool`` command line tool (Debian's appc-spec, v0.8.11), as a black box.

Run it as ``python -m appc_conformance.conformance.adapters.actool``.
"""
