"""``python -m appc_conformance VERB``: the same as ``appc-conformance VERB``."""

import sys

from appc_conformance.conformance.cli import main

sys.exit(main())
