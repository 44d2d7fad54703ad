import pytest

from conformance.adapter import check_answer
from conformance.grading import grade

RESULT = {"result": {"name": "example.com/app", "tag": None, "labels": {"version": "1"}}}
ERROR = {"error": ["invalid-app-string", "invalid-identifier"]}


@pytest.mark.parametrize("expect,answer,verdict", [
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
])
def test_grade(expect, answer, verdict):
    assert grade(expect, answer).verdict == verdict


def test_grade_message_says_what_differs():
    g = grade(RESULT, {"ok": {"name": "example.com/app", "tag": None, "labels": {}}})
    assert g.message == 'labels: expected {"version": "1"}, got {}'


@pytest.mark.parametrize("answer,problem", [
    ([], "not a JSON object"),
    ({"id": 2, "ok": {}}, "does not match"),
    ({"id": 1}, "exactly one of"),
    ({"id": 1, "ok": {}, "error": {"kind": "other"}}, "exactly one of"),
    ({"id": 1, "error": "boom"}, "'error' must be an object"),
    ({"id": 1, "ok": [1]}, "'ok' must be an object"),
])
def test_invalid_answers_are_protocol_errors(answer, problem):
    assert problem in check_answer(answer, 1)


def test_valid_answer():
    assert check_answer({"id": 1, "error": {"kind": "other", "message": "x"}}, 1) is None
