"""Adapter over rkt's own image code (image fetcher, keystore, configuration, discovery).

``build.build()`` compiles ``adapter.go`` against an rkt source tree the user gives
(``--rkt-src DIR`` or ``RKT_SRC``) and returns the binary; the binary is the adapter process.
What it maps, and what it cannot, is in ``adapter.go``'s ``notes`` and in docs/FINDINGS.md.
"""
