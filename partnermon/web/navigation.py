"""The staff pages' navigation: pages grouped by what people do, each link shown only to the roles that may use it,
and the current page marked. One table, read by a context processor, so no template works out "where am I".

A link is *current* (``aria-current="page"``) on its own page, and *within* (``aria-current="true"``) on the pages
under it (a partner under Partners, a follow-up under Follow-ups). A link lists the roles that may open it; a role
not listed does not see it, so viewers are not offered pages that would answer 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, has_request_context, request, url_for

from partnermon.models import User

ALL = ("owner", "adviser", "viewer")
WORKERS = ("owner", "adviser")   # ask clients, import, work follow-ups (viewers read only)
OWNER = ("owner",)


@dataclass(frozen=True)
class Link:
    label: str
    endpoint: str
    roles: tuple[str, ...] = ALL
    # The pages under this one: endpoints ("partners.show") or whole blueprints ("touchpoints.").
    under: tuple[str, ...] = ()

    def covers(self, endpoint: str) -> bool:
        return endpoint == self.endpoint or any(
            endpoint.startswith(part) if part.endswith(".") else endpoint == part for part in self.under)


@dataclass(frozen=True)
class Group:
    label: str
    links: tuple[Link, ...]


GROUPS: tuple[Group, ...] = (
    Group("Monitor", (
        Link("Overview", "home.index"),
        Link("Partners", "partners.index", under=("partners.", "touchpoints.", "maintenance.", "subscriptions.",
                                                  "scores.partner")),
        Link("Touchpoints", "touchpoint_list.index", under=("touchpoint_list.",)),
    )),
    Group("Feedback", (
        Link("Requests", "feedback.list_requests", under=("feedback.show_request",)),
        Link("Responses", "feedback.list_responses", under=("feedback.show_response",)),
        Link("Ask a client", "feedback.new_request", roles=WORKERS),
        Link("Import", "feedback_import.upload", roles=WORKERS, under=("feedback_import.",)),
        Link("Moments of truth", "moments.index", under=("moments.",)),
        Link("Themes", "themes.index", under=("themes.",)),
    )),
    Group("Follow-ups", (
        Link("Queue", "followups.index", under=("followups.",)),
    )),
    Group("Reports", (
        Link("Monthly reports", "reports.index", under=("reports.",)),
        Link("How scores work", "scores.methodology"),
    )),
    Group("Settings", (
        Link("Practice", "settings.practice", roles=OWNER),
        Link("Users", "users.index", roles=OWNER, under=("users.",)),
        Link("Follow-up rules", "settings.followups", roles=OWNER),
        Link("Thresholds", "scores.edit_thresholds", roles=OWNER),
        Link("API keys", "api_keys.index", roles=OWNER, under=("api_keys.",)),
        Link("Webhooks", "webhooks.index", roles=OWNER, under=("webhooks.",)),
        Link("Emails", "admin.emails", roles=OWNER),
        Link("Audit log", "admin.audit_log", roles=OWNER),
        Link("Erase a client's data", "feedback.erase", roles=OWNER),
    )),
)

ACCOUNT: tuple[Link, ...] = (
    Link("Alerts", "alert_preferences.edit"),
    Link("Password", "account.password"),
    Link("Where you are signed in", "account.sign_ins"),
)


@dataclass(frozen=True)
class ShownLink:
    label: str
    url: str
    current: str | None   # the aria-current value: "page", "true" (a page under it) or None


@dataclass(frozen=True)
class ShownGroup:
    label: str
    url: str               # its first link
    current: bool
    links: tuple[ShownLink, ...]


@dataclass(frozen=True)
class Navigation:
    groups: tuple[ShownGroup, ...]
    account: tuple[ShownLink, ...]

    @property
    def current_group(self) -> ShownGroup | None:
        return next((group for group in self.groups if group.current), None)


def _shown(links: tuple[Link, ...], role: str, endpoint: str) -> tuple[ShownLink, ...]:
    return tuple(
        ShownLink(link.label, url_for(link.endpoint),
                  "page" if endpoint == link.endpoint else "true" if link.covers(endpoint) else None)
        for link in links if role in link.roles)


def navigation_for(user: User, endpoint: str) -> Navigation:
    groups = []
    for group in GROUPS:
        links = _shown(group.links, user.role, endpoint)
        if links:
            groups.append(ShownGroup(group.label, links[0].url, any(link.current for link in links), links))
    return Navigation(tuple(groups), _shown(ACCOUNT, user.role, endpoint))


def init_app(app: Flask) -> None:
    from partnermon.web.security import current_user

    @app.context_processor
    def _navigation() -> dict[str, object]:
        user = current_user() if has_request_context() else None
        if user is None:
            return {"nav": None}
        return {"nav": navigation_for(user, request.endpoint or "")}   # no endpoint on a 404: nothing current
