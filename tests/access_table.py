"""The route table for tests/test_access.py: every route the app serves, who may use it, and a POST that
would change something if it were let through. Kept apart from the matrices so each file stays readable.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from tests.conftest import PASSWORD

PUBLIC, SIGNED_IN, OWNER = "public", "any signed-in user", "owners only"
STAFF_ONLY = "owners and advisers"   # asking clients for feedback: not viewers
API = "an API key"                    # the JSON API: a key, never a browser session (tests/test_api_access.py)


@dataclass(frozen=True)
class Route:
    rule: str                        # the URL template exactly as Flask has it
    methods: tuple[str, ...]         # GET and/or POST (HEAD and OPTIONS come with GET)
    access: str                      # PUBLIC, SIGNED_IN or OWNER
    scoped: bool = False             # takes the id of one practice's object (so another practice gets 404)
    ids: tuple[tuple[str, str], ...] = ()  # placeholder -> World.ids key, where not the placeholder's own name
    csrf: bool = True                # False: authorised by a link token or an API key, not a browser session
    writes: bool = True              # False: a POST that only shows something (the CSV import's preview)


GP, G, P = ("GET", "POST"), ("GET",), ("POST",)

ROUTES: dict[str, Route] = {
    # Signing in and out, first-run set-up, invitations.
    "auth.sign_in": Route("/sign-in", GP, PUBLIC),
    # Public: signing out when not signed in is harmless, and a POST-only URL is no place to come back to.
    "auth.sign_out": Route("/sign-out", P, PUBLIC),
    "auth.setup": Route("/setup", GP, PUBLIC),
    "auth.invitation": Route("/invitation/<token>", GP, PUBLIC),
    # Everyone in the practice.
    "account.password": Route("/account/password", GP, SIGNED_IN),
    "account.sign_ins": Route("/account/sign-ins", GP, SIGNED_IN),
    "home.index": Route("/", G, SIGNED_IN),
    "assets.logo": Route("/practice/logo", G, SIGNED_IN),
    "assets.favicon": Route("/favicon.ico", G, PUBLIC),
    "touchpoint_list.index": Route("/touchpoints", G, SIGNED_IN),
    "partners.index": Route("/partners/", G, SIGNED_IN),
    "partners.show": Route("/partners/<int:partner_id>", G, SIGNED_IN, scoped=True),
    "touchpoints.show": Route("/partners/<int:partner_id>/touchpoints/<int:touchpoint_id>", G, SIGNED_IN, scoped=True),
    "moments.index": Route("/moments/", G, SIGNED_IN),
    # Owners only.
    "partners.create": Route("/partners/new", GP, OWNER),
    "partners.edit": Route("/partners/<int:partner_id>/edit", GP, OWNER, scoped=True),
    "partners.delete": Route("/partners/<int:partner_id>/delete", GP, OWNER, scoped=True),
    "partners.create_touchpoint": Route("/partners/<int:partner_id>/touchpoints/new", GP, OWNER, scoped=True),
    "partners.edit_touchpoint": Route("/partners/<int:partner_id>/touchpoints/<int:touchpoint_id>/edit", GP, OWNER,
                                      scoped=True),
    "partners.delete_touchpoint": Route("/partners/<int:partner_id>/touchpoints/<int:touchpoint_id>/delete", P, OWNER,
                                        scoped=True),
    "touchpoints.probe": Route("/partners/<int:partner_id>/touchpoints/<int:touchpoint_id>/probe", P, OWNER,
                               scoped=True),
    "touchpoints.remove_probe": Route("/partners/<int:partner_id>/touchpoints/<int:touchpoint_id>/probe/delete", GP,
                                      OWNER, scoped=True),
    # A partner's promises (issue 20), and starting the practice's own touchpoints.
    "promises.create": Route("/partners/<int:partner_id>/promises/new", GP, OWNER, scoped=True),
    "promises.edit": Route("/partners/<int:partner_id>/promises/<int:promise_id>/edit", GP, OWNER, scoped=True),
    "promises.delete": Route("/partners/<int:partner_id>/promises/<int:promise_id>/delete", P, OWNER, scoped=True),
    "promises.add_own_touchpoint": Route("/partners/own", P, OWNER),
    "maintenance.create": Route("/partners/<int:partner_id>/maintenance", P, OWNER, scoped=True),
    "maintenance.delete": Route("/partners/<int:partner_id>/maintenance/<int:window_id>/delete", P, OWNER,
                                scoped=True),
    "moments.create": Route("/moments/new", GP, OWNER),
    "moments.edit": Route("/moments/<int:moment_id>/edit", GP, OWNER, scoped=True),
    "moments.retire": Route("/moments/<int:moment_id>/retire", P, OWNER, scoped=True),
    "moments.delete": Route("/moments/<int:moment_id>/delete", P, OWNER, scoped=True),
    "moments.weights": Route("/moments/<int:moment_id>/weights", P, OWNER, scoped=True),
    "moments.all_weights": Route("/moments/weights", P, OWNER),
    # Themes in comments: everyone reads them; owners find them now and add one as a moment of truth.
    "themes.index": Route("/themes/", G, SIGNED_IN),
    "themes.find": Route("/themes/find", P, OWNER),
    "themes.add_moment": Route("/themes/<int:run_id>/<int:theme_number>/moment", P, OWNER, scoped=True),
    "settings.practice": Route("/settings/", GP, OWNER),
    "settings.logo": Route("/settings/logo", P, OWNER),
    "settings.feedback": Route("/settings/feedback", P, OWNER),
    "settings.closures": Route("/settings/closures", GP, OWNER),
    "settings.remove_closure": Route("/settings/closures/<int:closure_id>/delete", P, OWNER, scoped=True),
    "settings.region": Route("/settings/closures/region", P, OWNER),
    "users.index": Route("/users/", G, OWNER),
    "users.invite": Route("/users/new", GP, OWNER),
    "users.edit": Route("/users/<int:user_id>/edit", GP, OWNER, scoped=True),
    "users.resend": Route("/users/<int:user_id>/resend", P, OWNER, scoped=True, ids=(("user_id", "invited_user_id"),)),
    "admin.emails": Route("/admin/emails", G, OWNER),
    "admin.audit_log": Route("/admin/audit", G, OWNER),
    # The client's feedback pages: authorised by the link's token (or open to all when a practice turns its
    # open link on), so they carry no CSRF token (DESIGN.md §8).
    "feedback_form.form": Route("/f/<token>", G, PUBLIC, ids=(("token", "feedback_token"),)),
    "feedback_form.submit": Route("/f/<token>", P, PUBLIC, ids=(("token", "feedback_token"),), csrf=False),
    "feedback_form.seen": Route("/f/<token>/seen", P, PUBLIC, ids=(("token", "feedback_token"),), csrf=False),
    "feedback_form.link_logo": Route("/f/<token>/logo", G, PUBLIC, ids=(("token", "feedback_token"),)),
    "feedback_form.open_form": Route("/p/<slug>/feedback", G, PUBLIC),
    "feedback_form.open_submit": Route("/p/<slug>/feedback", P, PUBLIC),
    "feedback_form.open_thanks": Route("/p/<slug>/feedback/thanks", G, PUBLIC),
    "feedback_form.open_logo": Route("/p/<slug>/logo", G, PUBLIC),
    # The recovery check-in ("Did {practice} put things right?"): authorised by its link's token, like the form.
    "check_in.page": Route("/check-in/<token>", G, PUBLIC, ids=(("token", "check_in_token"),)),
    "check_in.answer": Route("/check-in/<token>", P, PUBLIC, ids=(("token", "check_in_token"),), csrf=False),
    "health.healthz": Route("/healthz", G, PUBLIC),
    # API keys are an owner's business; the API itself is authorised by a key, never by a browser session
    # (tests/test_feedback_api.py covers its keys, tenancy and errors).
    "api_keys.index": Route("/settings/api-keys", GP, OWNER),
    "api_keys.revoke": Route("/settings/api-keys/<int:key_id>/revoke", P, OWNER, scoped=True),
    "api.create_feedback_request": Route("/api/v1/feedback-requests", P, API, csrf=False),
    # The read API (issue 21): a key with the read scope; another practice's id is 404 (tests/test_api_access.py).
    "api.list_partners": Route("/api/v1/partners", G, API),
    "api.get_partner": Route("/api/v1/partners/<int:partner_id>", G, API, scoped=True),
    "api.list_touchpoints": Route("/api/v1/touchpoints", G, API),
    "api.get_touchpoint": Route("/api/v1/touchpoints/<int:touchpoint_id>", G, API, scoped=True),
    "api.list_incidents": Route("/api/v1/incidents", G, API),
    "api.get_incident": Route("/api/v1/incidents/<int:incident_id>", G, API, scoped=True),
    "api.list_feedback_requests": Route("/api/v1/feedback-requests", G, API),
    "api.get_feedback_request": Route("/api/v1/feedback-requests/<int:request_id>", G, API, scoped=True),
    "api.list_feedback_responses": Route("/api/v1/feedback-responses", G, API),
    "api.get_feedback_response": Route("/api/v1/feedback-responses/<int:response_id>", G, API, scoped=True),
    "api.list_follow_ups": Route("/api/v1/follow-ups", G, API),
    "api.get_follow_up": Route("/api/v1/follow-ups/<int:follow_up_id>", G, API, scoped=True),
    "api.get_scores": Route("/api/v1/scores", G, API),
    "api.openapi": Route("/api/v1/openapi.json", G, PUBLIC),
    "api.docs": Route("/api/v1/docs", G, PUBLIC),
    # Webhooks: an owner's business (tests/test_webhooks.py covers signing, retries and the address rules).
    "webhooks.index": Route("/settings/webhooks/", GP, OWNER),
    "webhooks.show": Route("/settings/webhooks/<int:endpoint_id>", G, OWNER, scoped=True),
    "webhooks.enabled": Route("/settings/webhooks/<int:endpoint_id>/enabled", P, OWNER, scoped=True),
    "webhooks.test": Route("/settings/webhooks/<int:endpoint_id>/test", P, OWNER, scoped=True),
    "webhooks.delete": Route("/settings/webhooks/<int:endpoint_id>/delete", P, OWNER, scoped=True),
    # Feedback requests and responses: everyone reads; owners and advisers ask and revoke; owners erase.
    "feedback.list_requests": Route("/feedback/requests", G, SIGNED_IN),
    "feedback.show_request": Route("/feedback/requests/<int:request_id>", G, SIGNED_IN, scoped=True),
    "feedback.list_responses": Route("/feedback/responses", G, SIGNED_IN),
    "feedback.show_response": Route("/feedback/responses/<int:response_id>", G, SIGNED_IN, scoped=True),
    "feedback.export_requests": Route("/feedback/requests.csv", G, SIGNED_IN),
    "feedback.export_responses": Route("/feedback/responses.csv", G, SIGNED_IN),
    "feedback.new_request": Route("/feedback/requests/new", GP, STAFF_ONLY),
    "feedback.revoke_request": Route("/feedback/requests/<int:request_id>/revoke", P, STAFF_ONLY, scoped=True),
    "feedback_import.upload": Route("/feedback/import", GP, STAFF_ONLY, writes=False),
    "feedback_import.confirm": Route("/feedback/import/confirm", P, STAFF_ONLY),
    "feedback_import.example": Route("/feedback/import/example.csv", G, STAFF_ONLY),
    "feedback.erase": Route("/feedback/erase", GP, OWNER),
    # Follow-ups: everyone reads; owners and advisers act on them; owners reassign and set the rules.
    "followups.index": Route("/follow-ups/", G, SIGNED_IN),
    "followups.show": Route("/follow-ups/<int:follow_up_id>", G, SIGNED_IN, scoped=True),
    "followups.contacted": Route("/follow-ups/<int:follow_up_id>/contacted", P, STAFF_ONLY, scoped=True),
    "followups.resolve": Route("/follow-ups/<int:follow_up_id>/resolve", P, STAFF_ONLY, scoped=True),
    "followups.reopen": Route("/follow-ups/<int:follow_up_id>/reopen", P, STAFF_ONLY, scoped=True,
                              ids=(("follow_up_id", "resolved_follow_up_id"),)),
    "followups.reassign": Route("/follow-ups/<int:follow_up_id>/reassign", P, OWNER, scoped=True),
    "followups.step": Route("/follow-ups/<int:follow_up_id>/step", P, OWNER, scoped=True),
    # A personal email goes only on the email rung: the mild follow-up stands there.
    "followups.reply": Route("/follow-ups/<int:follow_up_id>/reply", P, STAFF_ONLY, scoped=True,
                             ids=(("follow_up_id", "email_follow_up_id"),)),
    "settings.followups": Route("/settings/follow-ups", GP, OWNER),
    # Which partners' outages a user hears about (owners by default, advisers by choice).
    "subscriptions.update": Route("/partners/<int:partner_id>/subscription", P, STAFF_ONLY, scoped=True),
    # A partner's scorecard goes outside the practice, to the partner's account manager: owners and advisers send it.
    "partners.scorecard": Route("/partners/<int:partner_id>/scorecard.pdf", G, STAFF_ONLY, scoped=True),
    # Each user's own alert choices; the one-click unsubscribe link is authorised by its signature (mail
    # clients post to it without a session, RFC 8058).
    "alert_preferences.edit": Route("/account/alerts", GP, SIGNED_IN),
    # Scores: everyone in the practice reads them and downloads them; owners set the thresholds.
    "scores.partner": Route("/partners/<int:partner_id>/experience", G, SIGNED_IN, scoped=True),
    "scores.export": Route("/scores.csv", G, SIGNED_IN),
    "scores.methodology": Route("/methodology", G, SIGNED_IN),
    "scores.edit_thresholds": Route("/settings/thresholds", GP, OWNER),
    # Reports: everyone reads and downloads them; owners make a month again. The email's download link is
    # authorised by its signature (tests/test_reports.py covers it).
    "reports.index": Route("/reports/", G, SIGNED_IN),
    "reports.make": Route("/reports/", P, OWNER),
    "reports.schedule": Route("/reports/schedule", P, OWNER),
    "reports.download": Route("/reports/<month>.pdf", G, SIGNED_IN, ids=(("month", "report_month"),)),
    "reports.preview": Route("/reports/<month>/preview", G, SIGNED_IN, ids=(("month", "report_month"),)),
    "reports.signed_download": Route("/reports/download/<token>", G, PUBLIC, ids=(("token", "report_token"),)),
    "unsubscribe.page": Route("/unsubscribe/<token>", G, PUBLIC, ids=(("token", "unsubscribe_token"),)),
    "unsubscribe.confirm": Route("/unsubscribe/<token>", P, PUBLIC, ids=(("token", "unsubscribe_token"),),
                                 csrf=False),
}


def _local_in(days: int) -> str:
    """A datetime-local value this many days from now in Harbour's zone (windows may not lie in the past)."""
    return (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


NEW_PASSWORD = "a different long passphrase 42"
HARBOUR_LOGO = b"\x89PNG\r\n\x1a\n" + b"harbour's logo"
OTHER_LOGO = b"\x89PNG\r\n\x1a\n" + b"somebody else's logo"


# What each POST sends (given the test's World): a valid form that would change something if let through.
PAYLOADS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "auth.sign_in": lambda w: {"email": "alice@harbour.test", "password": PASSWORD},
    "auth.sign_out": lambda w: {},
    "auth.setup": lambda w: {"practice_name": "Intruder Ltd", "slug": "intruder", "timezone": "Europe/London",
                             "name": "Mallory", "email": "mallory@intruder.test",
                             "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "auth.invitation": lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "account.password": lambda w: {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "account.sign_ins": lambda w: {},
    "partners.create": lambda w: {"name": "Planted Partner", "category": "insurer", "exposure": "7"},
    "partners.edit": lambda w: {"name": "Hijacked", "category": "other", "exposure": "999"},
    "partners.delete": lambda w: {},
    "partners.create_touchpoint": lambda w: {"name": "Planted touchpoint", "moment": "claim",
                                             "url": "https://planted.example/"},
    "partners.edit_touchpoint": lambda w: {"name": "Hijacked touchpoint", "moment": "complaint",
                                           "url": "https://hijacked.example/"},
    "partners.delete_touchpoint": lambda w: {},
    # "Save probe" (the world's probe checks every 5 minutes); "Test now" is the same form and route.
    "touchpoints.probe": lambda w: {"action": "save", "kind": "http", "checks": "[STATUS] == 200",
                                    "interval_seconds": "60", "enabled": "1"},
    "touchpoints.remove_probe": lambda w: {},
    "maintenance.create": lambda w: {"starts_at": _local_in(days=1), "ends_at": _local_in(days=2), "touchpoint": "",
                                     "note": "Planted maintenance"},
    "maintenance.delete": lambda w: {},
    "promises.create": lambda w: {"kind": "tacit", "measure": "satisfaction", "scope": "", "target": "80"},
    "promises.edit": lambda w: {"kind": "tacit", "measure": "availability", "scope": "", "target": "50"},
    "promises.delete": lambda w: {},
    "promises.add_own_touchpoint": lambda w: {},
    "moments.create": lambda w: {"key": "planted", "name": "Planted moment", "stage": "awareness", "stake": "low"},
    "moments.edit": lambda w: {"name": "Hijacked moment", "stage": "purchase", "stake": "high", "examples": "x"},
    "moments.retire": lambda w: {"retired": "1"},
    "moments.delete": lambda w: {},
    "moments.weights": lambda w: {"weights": "owner"},
    "moments.all_weights": lambda w: {"weights": "owner"},
    "themes.find": lambda w: {},
    "themes.add_moment": lambda w: {},
    "settings.practice": lambda w: {"name": "Hijacked Advice", "timezone": "Europe/Paris", "business_start": "07:00",
                                    "business_end": "19:00", "business_days": ["5", "6"], "brand_colour": "#ff0000"},
    "settings.logo": lambda w: {"logo": (io.BytesIO(OTHER_LOGO), "logo.png")},
    "settings.feedback": lambda w: {"feedback_throttle_days": "1", "feedback_link_days": "2", "open_feedback_link": ""},
    "settings.closures": lambda w: {"day": _local_in(days=10)[:10], "note": "Planted closure"},
    "settings.remove_closure": lambda w: {},
    "settings.region": lambda w: {"region": "SCT"},
    "users.invite": lambda w: {"email": "mallory@harbour.test", "role": "owner", "name": "Mallory"},
    "users.edit": lambda w: {"role": "owner", "name": "Hijacked", "active": ""},
    "users.resend": lambda w: {},
    "feedback_form.submit": lambda w: {"satisfaction": "2", "comment": "Planted answer"},
    "feedback_form.seen": lambda w: {},
    "check_in.answer": lambda w: {"answer": "partly", "comment": "Planted answer"},
    "feedback_form.open_submit": lambda w: {"partner": str(w.ids["partner_id"]), "satisfaction": "2",
                                            "submission": "planted-submission-key-0001"},
    "api_keys.index": lambda w: {"name": "Planted key", "scopes": ["read", "write"]},
    "api_keys.revoke": lambda w: {},
    "api.create_feedback_request": lambda w: {"partner": "Acme Insurance", "client_email": "planted@client.test"},
    # A public address written as an IP, so saving needs no DNS.
    "webhooks.index": lambda w: {"url": "https://93.184.215.14/planted", "events": ["response.created"]},
    "webhooks.enabled": lambda w: {"enabled": "0"},
    "webhooks.test": lambda w: {},
    "webhooks.delete": lambda w: {},
    "feedback.new_request": lambda w: {"client_name": "Planted", "client_email": "planted@client.test",
                                       "partner": str(w.ids["partner_id"]), "touchpoint": "",
                                       "adviser": str(w.cast.bob.id)},
    "feedback.revoke_request": lambda w: {},
    "feedback_import.upload": lambda w: {"csv": "client_email,partner\nplanted@client.test,Acme Insurance\n"},
    "feedback_import.confirm": lambda w: {"csv": "client_email,partner\nplanted@client.test,Acme Insurance\n",
                                          "mode": "good-only"},
    "feedback.erase": lambda w: {"client_email": "dana@client.test", "confirm": "1"},
    "followups.contacted": lambda w: {"contacted_channel": "phone", "contacted_note": "Planted contact"},
    "followups.resolve": lambda w: {"outcome": "Planted outcome", "outcome_kind": "stayed"},
    "followups.reopen": lambda w: {"reopen_note": "Planted reopen"},
    "followups.reassign": lambda w: {"assignee": str(w.cast.bob.id)},
    "followups.step": lambda w: {"step_direction": "up", "step_reason": "Planted step"},
    "followups.reply": lambda w: {"reply_subject": "Planted email", "reply_body": "Planted body",
                                  "submission": "planted-reply-key-000001"},
    "settings.followups": lambda w: {"followup_due_days": "3", "followup_urgent_hours": "8",
                                     "followup_urgent_stakes": ["high", "medium"]},
    "subscriptions.update": lambda w: {"notify": "0"},
    "alert_preferences.edit": lambda w: {"certificate_expiring": "digest", "incident_resolved": "off",
                                         "quiet_from": "22:00", "quiet_to": "07:00"},
    "unsubscribe.confirm": lambda w: {"List-Unsubscribe": "One-Click"},
    "scores.edit_thresholds": lambda w: {"all:dissatisfaction": "1", "score_min_responses": "50"},
    "reports.make": lambda w: {"month": "2026-10"},
    "reports.schedule": lambda w: {"report_day": "5", "report_hour": "9"},
}
