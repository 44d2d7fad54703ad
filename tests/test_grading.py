import pytest

from appc_conformance.conformance.adapter import check_answer
from appc_conformance.conformance.grading import VERDICTS, grade

RESULT = {"result": {"name": "example.com/app", "tag": None, "labels": {"version": "1"}}}
ERROR = {"error": ["invalid-app-string", "invalid-identifier"]}


@pytest.mark.parametrize(
    "expect,answer,verdict",
    [
        (RESULT, {"ok": {"name": "example.com/app", "tag": None, "labels": {"version": "1"}}}, "pass"),
        (RESULT, {"ok": {"name": "example.com/app", "tag": None, "labels": {"version": "1"}, "new": 1}}, "pass"),
        (RESULT, {"ok": {"name": "example.com/app", "tag": None, "labels": {"version": "2"}}}, "fail"),
        (RESULT, {"ok": {"name": "example.com/app", "labels": {"version": "1"}}}, "fail"),
        (RESULT, {"ok": {"name": "example.com/app", "tag": "", "labels": {"version": "1"}}}, "fail"),
        (RESULT, {"error": {"kind": "invalid-app-string", "message": "no"}}, "error"),
        (ERROR, {"error": {"kind": "invalid-identifier", "message": "no"}}, "pass"),
        (ERROR, {"error": {"kind": "other", "message": "no"}}, "pass"),
        (ERROR, {"error": {"kind": "tag-not-found", "message": "no"}}, "fail"),
        (ERROR, {"ok": {"name": "x", "tag": None, "labels": {}}}, "error"),
        (ERROR, {"unsupported": "no"}, "unsupported"),
        ({"any_of": [RESULT, ERROR]}, {"error": {"kind": "invalid-identifier", "message": ""}}, "pass"),
        ({"any_of": [RESULT, ERROR]}, {"ok": {"name": "x", "tag": None, "labels": {}}}, "fail"),
        ({"result": {"matches": True}}, {"ok": {"matches": 1}}, "fail"),
    ],
)
def test_grade(expect, answer, verdict):
    assert grade(expect, answer).verdict == verdict


def test_failed_answer_is_an_adapter_error_never_a_pass():
    """Protocol 1.1: ``failed`` means the adapter or the tool could not run (issue 11, point 1)."""
    for expect in (RESULT, ERROR, {"any_of": [RESULT, ERROR]}, {"error": "other"}):
        g = grade(expect, {"failed": {"message": "flag provided but not defined: -port"}})
        assert g.verdict == "adapter-error"
        assert "flag provided but not defined: -port" in g.message
        assert not g.unclassified
    assert "adapter-error" in VERDICTS


@pytest.mark.parametrize(
    "expect,answer,unclassified",
    [
        (ERROR, {"error": {"kind": "other", "message": "no"}}, True),
        (ERROR, {"error": {"kind": "invalid-identifier", "message": "no"}}, False),
        ({"any_of": [RESULT, ERROR]}, {"error": {"kind": "other", "message": ""}}, True),
        ({"error": ["other"]}, {"error": {"kind": "other", "message": ""}}, False),  # the case asks for other
        (
            {"any_of": [{"error": "invalid-identifier"}, {"error": "other"}]},
            {"error": {"kind": "other", "message": ""}},
            False,
        ),
        (RESULT, {"ok": {"name": "example.com/app", "tag": None, "labels": {"version": "1"}}}, False),
    ],
)
def test_pass_on_kind_other_is_marked_unclassified(expect, answer, unclassified):
    g = grade(expect, answer)
    assert g.verdict == "pass"
    assert g.unclassified is unclassified


RESULT2 = {"result": {"name": "example.com/app", "tag": None, "labels": {"version": "2"}}}


def test_failure_of_a_case_with_several_answers_lists_every_accepted_answer():
    """Issue 11, point 5: not only the first answer compared."""
    expect = {"any_of": [RESULT, RESULT2, ERROR]}
    wrong = grade(expect, {"ok": {"name": "example.com/app", "tag": None, "labels": {}}})
    assert wrong.verdict == "fail"
    for text in ('{"version": "1"}', '{"version": "2"}', "invalid-app-string or invalid-identifier"):
        assert text in wrong.message, (text, wrong.message)
    rejected = grade({"any_of": [RESULT, RESULT2]}, {"error": {"kind": "invalid-identifier", "message": ""}})
    assert rejected.verdict == "error"
    assert '{"version": "1"}' in rejected.message and '{"version": "2"}' in rejected.message
    kind = grade({"any_of": [RESULT, {"error": "alias-cycle"}]}, {"error": {"kind": "tag-not-found", "message": ""}})
    assert kind.verdict == "fail"
    assert "alias-cycle" in kind.message and '{"version": "1"}' in kind.message
    one = grade({"any_of": [RESULT, ERROR]}, {"ok": {"name": "x", "tag": None, "labels": {}}})
    assert one.verdict == "fail"
    assert "invalid-app-string or invalid-identifier" in one.message and "example.com/app" in one.message


def test_failed_answer_shape():
    assert check_answer({"id": 1, "failed": {"message": "actool: flag provided but not defined"}}, 1) is None
    assert "failed" in check_answer({"id": 1, "failed": "boom"}, 1)
    assert "failed" in check_answer({"id": 1, "failed": {}}, 1)
    assert "exactly one of" in check_answer({"id": 1, "failed": {"message": "x"}, "ok": {}}, 1)


def test_grade_message_says_what_differs():
    g = grade(RESULT, {"ok": {"name": "example.com/app", "tag": None, "labels": {}}})
    assert g.message == 'labels: expected {"version": "1"}, got {}'


@pytest.mark.parametrize(
    "answer,problem",
    [
        ([], "not a JSON object"),
        ({"id": 2, "ok": {}}, "does not match"),
        ({"id": 1}, "exactly one of"),
        ({"id": 1, "ok": {}, "error": {"kind": "other"}}, "exactly one of"),
        ({"id": 1, "error": "boom"}, "'error' must be an object"),
        ({"id": 1, "ok": [1]}, "'ok' must be an object"),
    ],
)
def test_invalid_answers_are_protocol_errors(answer, problem):
    assert problem in check_answer(answer, 1)


def test_valid_answer():
    assert check_answer({"id": 1, "error": {"kind": "other", "message": "x"}}, 1) is None
