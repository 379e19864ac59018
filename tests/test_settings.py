"""Practice settings: time zone, business hours, branding and the logo upload."""

from __future__ import annotations

import io

from tests.conftest import text_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_alice_sets_business_hours_and_branding(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/", {
        "name": "Harbour Advice Ltd", "timezone": "Australia/Sydney", "business_start": "08:30",
        "business_end": "18:00", "business_days": ["0", "1", "2", "3", "5"], "brand_colour": "#AA3300",
    }, follow_redirects=True)
    assert "Practice settings saved" in text_of(response)
    session.refresh(cast.harbour)
    assert cast.harbour.timezone == "Australia/Sydney"
    assert (cast.harbour.business_start_minute, cast.harbour.business_end_minute) == (510, 1080)
    assert cast.harbour.business_weekdays == [0, 1, 2, 3, 5]
    assert cast.harbour.brand_colour == "#aa3300"
    # The colour reaches every page through the one nonce'd style block.
    assert "--brand: #aa3300" in browser.get("/").get_data(as_text=True)


def test_bad_settings_show_field_messages_and_change_nothing(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/", {
        "name": "", "timezone": "Nowhere/Else", "business_start": "18:00", "business_end": "09:00",
        "brand_colour": "red;} body{display:none",
    })
    assert response.status_code == 422
    page = text_of(response)
    assert "Practice name is required" in page
    assert "not a time zone" in page
    assert "Closing time must be after opening time" in page
    assert "Choose at least one business day" in page
    assert "Use a colour like #1f4e79" in page
    session.refresh(cast.harbour)
    assert cast.harbour.name == "Harbour Advice" and cast.harbour.timezone == "Europe/London"


def test_a_png_logo_is_stored_and_served_only_to_the_practice(cast, browser, new_browser):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/logo", {"logo": (io.BytesIO(PNG), "logo.png")},
                            content_type="multipart/form-data", follow_redirects=True)
    assert "Logo updated" in text_of(response)
    logo = browser.get("/practice/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == PNG
    # Charlie's practice has no logo; he never gets Harbour's.
    assert new_browser().sign_in("charlie@quay.test").get("/practice/logo").status_code == 404


def test_an_svg_logo_is_refused_because_it_can_carry_script(cast, browser):
    browser.sign_in("alice@harbour.test")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = browser.post("/settings/logo", {"logo": (io.BytesIO(svg), "logo.svg")}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Upload a PNG or JPEG image" in text_of(response)
    assert browser.get("/practice/logo").status_code == 404


def test_an_oversized_upload_is_refused_with_413_not_500(cast, browser):
    browser.sign_in("alice@harbour.test")
    # A raw body: the test client would spool a large file to a temp file it never closes.
    body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + browser.csrf().encode()
            + b"\r\n--b\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"big.png\"\r\n"
            + b"Content-Type: image/png\r\n\r\n" + PNG + b"\x00" * (3 * 1024 * 1024) + b"\r\n--b--\r\n")
    response = browser.client.post("/settings/logo", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert "too large" in text_of(response)


def test_alice_sets_the_feedback_rules_and_turns_the_open_link_on(cast, browser, session, client):
    browser.sign_in("alice@harbour.test")
    assert client.get("/p/harbour/feedback").status_code == 404
    response = browser.post("/settings/feedback", {"feedback_throttle_days": "60", "feedback_link_days": "14",
                                                   "open_feedback_link": "1"}, follow_redirects=True)
    page = text_of(response)
    assert "Feedback settings saved" in page and "http://partnermon.test/p/harbour/feedback" in page
    session.refresh(cast.harbour)
    assert (cast.harbour.feedback_throttle_days, cast.harbour.feedback_link_days, cast.harbour.open_feedback_link) == (
        60, 14, True)
    assert client.get("/p/harbour/feedback").status_code == 200


def test_bad_feedback_rules_keep_what_was_typed_and_change_nothing(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/feedback", {"feedback_throttle_days": "lots", "feedback_link_days": "400",
                                                   "open_feedback_link": "1"})
    assert response.status_code == 422
    page = text_of(response)
    assert "Days between requests to one client must be a whole number" in page
    assert "Days a feedback link works must be between 1 and 90" in page
    assert 'value="lots"' in response.get_data(as_text=True)
    session.refresh(cast.harbour)
    assert (cast.harbour.feedback_throttle_days, cast.harbour.feedback_link_days, cast.harbour.open_feedback_link) == (
        30, 30, False)


def test_the_time_zone_is_chosen_from_a_list_grouped_by_area(cast, browser):
    browser.sign_in("alice@harbour.test")
    html = browser.get("/settings/").get_data(as_text=True)
    select = html[html.index('<select id="f-timezone"'):html.index("</select>", html.index('id="f-timezone"'))]
    assert '<optgroup label="Europe">' in select and '<optgroup label="Pacific">' in select
    assert '<option value="Europe/London" selected>London — Europe</option>' in select
    assert '<option value="America/Argentina/Buenos_Aires" >Argentina / Buenos Aires — America</option>' in select
    assert 'value="UTC"' in select
    assert 'value="US/Eastern"' not in select and 'value="Etc/GMT+5"' not in select   # old aliases are not offered


def test_an_unknown_time_zone_is_refused_with_its_name_and_the_list_again(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    response = browser.post("/settings/", {"name": "Harbour Advice", "timezone": "Europe/Atlantis",
                                           "business_start": "09:00", "business_end": "17:00", "business_days": ["0"],
                                           "brand_colour": "#1f4e79"})
    assert response.status_code == 422
    assert "“Europe/Atlantis” is not a time zone we know. Choose one from the list" in text_of(response)
    html = response.get_data(as_text=True)
    assert '<option value="" selected>Choose a time zone</option>' in html and 'aria-invalid="true"' in html
    session.refresh(cast.harbour)
    assert cast.harbour.timezone == "Europe/London"


def test_a_zone_set_on_the_command_line_but_not_in_the_list_is_kept_when_the_form_is_saved(cast, browser, session):
    cast.harbour.timezone = "US/Eastern"
    session.commit()
    browser.sign_in("alice@harbour.test")
    html = browser.get("/settings/").get_data(as_text=True)
    assert '<option value="US/Eastern" selected>US/Eastern</option>' in html
