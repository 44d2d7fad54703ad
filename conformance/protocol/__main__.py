import sys

from appc_conformance.conformance.protocol import main

sys.exit(main())
