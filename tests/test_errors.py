"""Error pages: in the product's layout, never a traceback, never a 500 for bad input."""

from __future__ import annotations

from tests.conftest import text_of


def test_an_unknown_page_is_a_friendly_404(cast, browser):
    browser.sign_in("alice@harbour.test")
    response = browser.get("/partners/999999")
    assert response.status_code == 404
    page = text_of(response)
    assert "Page not found" in page and "Harbour Advice" in page  # in the product's layout


def test_a_non_numeric_id_is_404_not_500(cast, browser):
    browser.sign_in("alice@harbour.test")
    assert browser.get("/partners/abc").status_code == 404
    assert browser.post("/partners/1e9/edit", {"name": "x"}).status_code == 404


def test_an_unexpected_error_shows_the_500_page_and_no_traceback(cast, app, browser):
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    browser.sign_in("alice@harbour.test")
    response = browser.get("/boom")
    assert response.status_code == 500
    page = text_of(response)
    assert "Something went wrong on our side" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_a_missing_role_is_a_403_page_in_the_layout(cast, browser):
    browser.sign_in("vera@harbour.test")
    response = browser.get("/users/")
    assert response.status_code == 403
    assert "Your role in this practice does not include this page" in text_of(response)


def test_api_paths_answer_errors_as_problem_json(cast, client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert (body["status"], body["title"], body["error"]) == (404, "Not found", "Not found")
    assert "/api/v1/docs" in body["detail"]


def test_a_malformed_form_body_is_refused_with_400(cast, browser):
    browser.sign_in("alice@harbour.test")
    response = browser.client.post("/partners/new", data=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
