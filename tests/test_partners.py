"""Partner, touchpoint and moment-of-truth pages: create, edit, delete, and bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from partnermon.models import AuditEvent, MomentOfTruth, Partner, Touchpoint
from tests.conftest import text_of


def count(session, model, **where) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return session.scalar(query)


def test_an_empty_partner_list_explains_what_to_do(runtime, session, browser):
    from tests import factories
    from tests.conftest import NOW, PASSWORD

    lonely = factories.practice(session, NOW, "lonely", "Lonely Advice")
    factories.user(session, NOW, lonely, "owner@lonely.test", "owner", PASSWORD)
    session.commit()
    page = text_of(browser.sign_in("owner@lonely.test").get("/partners/"))
    assert "No partners yet" in page and "Add your first partner" in page


def test_alice_adds_a_partner_and_is_told_what_next(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/partners/new", {
        "name": "Northwind Funds", "category": "fund_manager", "website": "https://northwind.test",
        "exposure": "1,250", "account_manager_email": "AM@northwind.test",
    }, follow_redirects=True)
    assert response.status_code == 200
    assert "Added Northwind Funds" in text_of(response)
    partner = session.scalar(select(Partner).where(Partner.name == "Northwind Funds"))
    assert partner.exposure == 1250 and partner.category == "fund_manager"
    assert partner.account_manager_email == "am@northwind.test"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "partner.created", AuditEvent.object_id == partner.id)).actor == "alice@harbour.test"


def test_a_bad_partner_form_shows_each_problem_and_saves_nothing(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    before = count(session, Partner)
    response = browser.post("/partners/new", {
        "name": "acme insurance", "category": "casino", "website": "ftp://files.test", "exposure": "lots",
        "account_manager_email": "nope",
    })
    assert response.status_code == 422
    page = text_of(response)
    assert "already have a partner named" in page
    assert "Category must be one of" in page
    assert "starting with http:// or https://" in page
    assert "must be a whole number" in page
    assert "is not an email address" in page
    assert 'value="ftp://files.test"' in response.get_data(as_text=True)  # what was typed is kept
    assert count(session, Partner) == before


def test_partner_names_and_notes_are_escaped(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    browser.post("/partners/new", {"name": "<script>alert(1)</script>", "category": "other",
                                   "notes": "<img src=x onerror=alert(2)>"})
    partner = session.scalar(select(Partner).where(Partner.name.like("<script>%")))
    html = browser.get(f"/partners/{partner.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_alice_edits_a_partner(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/partners/{cast.acme.id}/edit", {"name": "Acme Insurance Group", "category": "insurer", "exposure": "130"})
    assert response.status_code == 302
    session.refresh(cast.acme)
    assert cast.acme.name == "Acme Insurance Group" and cast.acme.exposure == 130


def test_deleting_a_partner_asks_first_and_says_what_goes_with_it(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    confirm = text_of(browser.get(f"/partners/{cast.acme.id}/delete"))
    assert "Delete Acme Insurance?" in confirm
    assert "1 touchpoint" in confirm and "Claims form" in confirm
    assert count(session, Partner, id=cast.acme.id) == 1  # the question deleted nothing
    response = browser.post(f"/partners/{cast.acme.id}/delete", follow_redirects=True)
    assert "Deleted Acme Insurance and its touchpoints" in text_of(response)
    assert count(session, Partner, id=cast.acme.id) == 0
    assert count(session, Touchpoint, partner_id=cast.acme.id) == 0


def test_alice_adds_edits_and_deletes_a_touchpoint(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    service = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id, MomentOfTruth.key == "service"))
    response = browser.post(f"/partners/{cast.acme.id}/touchpoints/new",
                            {"name": "Portal login", "moment": str(service.id), "url": "https://portal.acme.test/login"})
    assert response.status_code == 302
    touchpoint = session.scalar(select(Touchpoint).where(Touchpoint.name == "Portal login"))
    assert touchpoint.moment_id == service.id and touchpoint.practice_id == cast.harbour.id
    browser.post(f"/partners/{cast.acme.id}/touchpoints/{touchpoint.id}/edit",
                 {"name": "Portal sign-in", "moment": str(service.id), "url": ""})
    session.refresh(touchpoint)
    assert touchpoint.name == "Portal sign-in" and touchpoint.url is None
    browser.post(f"/partners/{cast.acme.id}/touchpoints/{touchpoint.id}/delete")
    assert count(session, Touchpoint, id=touchpoint.id) == 0


def test_a_touchpoint_cannot_use_another_practices_moment(cast, browser, session):
    quay_claim = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.quay.id, MomentOfTruth.key == "claim"))
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/partners/{cast.acme.id}/touchpoints/new", {"name": "Sneaky", "moment": str(quay_claim.id)})
    assert response.status_code == 422
    assert "is not one of this practice's moments of truth" in text_of(response)
    assert count(session, Touchpoint, name="Sneaky") == 0


def test_the_partner_page_lists_touchpoints_with_their_moment(cast, browser):
    page = text_of(browser.sign_in("bob@harbour.test").get(f"/partners/{cast.acme.id}"))
    assert "Claims form" in page and "Claims and hardship" in page
    assert "Add a touchpoint" not in page  # advisers see, but do not change


def test_moments_can_be_renamed_added_retired_and_deleted_when_unused(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    claim = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id, MomentOfTruth.key == "claim"))
    browser.post(f"/moments/{claim.id}/edit", {"name": "Claims", "stage": "satisfaction", "stake": "high", "examples": "lodging"})
    session.refresh(claim)
    assert claim.name == "Claims" and claim.key == "claim"

    response = browser.post("/moments/new", {"key": "hardship", "name": "Hardship", "stage": "satisfaction", "stake": "high"})
    assert response.status_code == 302
    hardship = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id, MomentOfTruth.key == "hardship"))
    assert hardship is not None

    duplicate = browser.post("/moments/new", {"key": "hardship", "name": "Again", "stage": "satisfaction", "stake": "high"})
    assert duplicate.status_code == 422 and "already exists" in text_of(duplicate)

    browser.post(f"/moments/{claim.id}/retire", {"retired": "1"})
    session.refresh(claim)
    assert claim.retired
    # A retired moment is not offered for new touchpoints.
    form = text_of(browser.get(f"/partners/{cast.acme.id}/touchpoints/new"))
    assert "Claims (high stake)" not in form and "Hardship" in form

    refused = browser.post(f"/moments/{claim.id}/delete", follow_redirects=True)
    assert "1 touchpoint uses this moment" in text_of(refused)
    assert count(session, MomentOfTruth, id=claim.id) == 1
    browser.post(f"/moments/{hardship.id}/delete")
    assert count(session, MomentOfTruth, id=hardship.id) == 0
