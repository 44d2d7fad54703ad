from appc_conformance.conformance.cli import main

raise SystemExit(main())
