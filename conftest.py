# Loads the harness when running from a source checkout (an installed package loads it
# through its pytest11 entry point, under the same name, so it is never loaded twice).
pytest_plugins = ["appc_conformance.conformance.plugin"]
