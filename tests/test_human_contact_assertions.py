"""[HUMAN_CONTACT] in the assertion language: require that a page offers a person, or a phone specifically."""

from __future__ import annotations

import pytest

from probes.assertions import AssertionSyntaxError, Subject, parse

PHONE_AND_EMAIL = Subject(status=200, human_contact=["phone", "email"])
CONTACT_LINK_ONLY = Subject(status=200, human_contact=["contact_page"])
NOBODY = Subject(status=200, human_contact=[])


@pytest.mark.parametrize(("check", "subject", "passed"), [
    ("[HUMAN_CONTACT] == true", PHONE_AND_EMAIL, True),
    ("[HUMAN_CONTACT] == true", CONTACT_LINK_ONLY, True),
    ("[HUMAN_CONTACT] == true", NOBODY, False),
    ("[human_contact] != false", NOBODY, False),
    ("[HUMAN_CONTACT].phone == true", PHONE_AND_EMAIL, True),
    ("[HUMAN_CONTACT].phone == true", CONTACT_LINK_ONLY, False),
    ("[HUMAN_CONTACT].chat == false", CONTACT_LINK_ONLY, True),
    ("[HUMAN_CONTACT].contact_page == true", CONTACT_LINK_ONLY, True),
    ("[HUMAN_CONTACT].email == true", PHONE_AND_EMAIL, True),
    ("[HUMAN_CONTACT].sms == true", PHONE_AND_EMAIL, False),
    ("[HUMAN_CONTACT].messaging == true", PHONE_AND_EMAIL, False),
])
def test_human_contact_and_its_kinds_are_true_or_false(check, subject, passed):
    assert parse(check).evaluate(subject).passed is passed


def test_failures_say_what_was_found():
    assert parse("[HUMAN_CONTACT].phone == true").evaluate(CONTACT_LINK_ONLY).description == (
        "[HUMAN_CONTACT].phone == true (was false)")


def test_a_page_not_judged_is_null_and_says_why():
    verdict = parse("[HUMAN_CONTACT] == true").evaluate(Subject(status=200))
    assert verdict.passed is False
    assert verdict.description == ("[HUMAN_CONTACT] == true (not judged: the human-contact check did not read "
                                   "this answer as a web page)")


@pytest.mark.parametrize(("check", "detail"), [
    ("[HUMAN_CONTACT].fax == true",
     "[HUMAN_CONTACT] can be followed by one of .phone, .sms, .messaging, .email, .contact_page, .chat, not .fax"),
    ("[HUMAN_CONTACT] == 1", 'expected true, false or null after "==" ([HUMAN_CONTACT] is true or false), found 1'),
])
def test_mistakes_are_explained(check, detail):
    with pytest.raises(AssertionSyntaxError) as caught:
        parse(check)
    assert caught.value.detail == detail
