"""The appc conformance suite, installed under one distinctive top-level name.

The checkout keeps its folders at the top (``conformance/``, ``reports/``, ``servers/``); they
install as ``appc_conformance.conformance``, ``appc_conformance.reports`` and
``appc_conformance.servers`` (setup.py), so a project that has its own ``conformance``,
``reports`` or ``servers`` package can run the suite from its own root.
"""
