"""Generated differential cases: hypothesis draws inputs, two adapters answer, answers are compared.

    pytest conformance/generated --impl go-appc --profile appc-0.8.11     # CI budget, fixed seeds
    APPC_GENERATED_EXAMPLES=2000 pytest conformance/generated --impl go-appc --profile appc-0.8.11
    APPC_GENERATED_SEED=12345 ...                                          # replay one exploratory run

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
- ``to_vector``: a disagreement as a vector case, validated against the vector schema.
"""
