"""Generated differential cases: hypothesis draws inputs, two adapters answer, answers are compared.

    pytest conformance/generated --impl go-appc --profile appc-0.8.11     # CI budget, fixed seeds
    APPC_GENERATED_EXAMPLES=2000 pytest conformance/generated --impl go-appc --profile appc-0.8.11
    APPC_GENERATED_SEED=12345 ...                                          # replay one exploratory run
    APPC_GENERATED_IGNORE=KEY,... ...                                      # pass over known disagreements

The implementation under test is chosen with the plugin's options (``--impl``, ``--adapter-cmd``,
``--profile``); the expected answer comes from the reference adapter, run as a separate process
like any other implementation (the harness never imports one). Inputs in areas the spec leaves
open accept every allowed reading (``expectation``), so a disagreement is a real one. A
disagreement fails the test with hypothesis's shrunk example and a ready-to-add vector case.

Modules, one concern each:
- ``budget``: examples, seeds and hypothesis settings (CI versus exploratory);
- ``strategies``: hypothesis strategies for app strings, image tags documents, label sets, manifests;
- ``grammar``: the pieces of an app string and of documents where identifiers sit (for AMB-26);
- ``expectation``: the answers a case accepts, given the reference's answer and the ambiguities;
- ``differential``: one input through both adapters, compared; raises ``Disagreement``;
- ``to_vector``: a disagreement as a vector case, validated against the vector schema;
- ``explore``: repeated exploratory runs that pass over what was found (``python -m
  conformance.generated.explore``);
- ``conftest`` and ``test_*``: the pytest side, one test per operation and profile.
docs/GENERATED.md describes the rules and what a run against the Go library found.
"""

import os as _os
import tempfile as _tempfile

from hypothesis import configuration as _hypothesis_configuration

# Hypothesis keeps caches in a ".hypothesis" folder of the working directory; never in the repo.
_hypothesis_configuration.set_hypothesis_home_dir(_os.path.join(_tempfile.gettempdir(), "appc-conformance-hypothesis"))
