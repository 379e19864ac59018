from tests.conftest import text_of


def test_alice_signs_in_and_sees_her_partners(cast, browser):
    browser.sign_in("alice@harbour.test")
    page = browser.get("/partners/")
    assert page.status_code == 200
    assert "Acme Insurance" in text_of(page)
    assert "Zenith Platform" not in text_of(page)
