"""``partnermon feedback-link``: ask one client for feedback from a script or a terminal (DESIGN.md §9).

It prints the personal link, one line, so a script can send it another way too; the invitation email is
queued as it is for the form. A mistake is one line naming the option, and exit code 1.
"""

from __future__ import annotations

import click

from partnermon.cli.support import OneLineUsage, fail, friendly_errors, open_runtime
from partnermon.errors import ValidationError

# The service names fields as the form does; a person at a terminal knows them by their options.
OPTION_OF = {"client_email": "--client-email", "client_name": "--client-name", "partner": "--partner",
             "touchpoint": "--touchpoint", "adviser_email": "--adviser", "external_ref": "--external-ref"}


@click.command("feedback-link", cls=OneLineUsage)
@click.option("--practice", "practice_slug", required=True, help="The practice's slug.")
@click.option("--partner", required=True, help="The partner the feedback is about, by name.")
@click.option("--client-email", required=True, help="Where the invitation goes.")
@click.option("--client-name", default="", help="The client's name, for the greeting.")
@click.option("--touchpoint", default="", help="A touchpoint of the partner, or a moment of truth (key or name).")
@click.option("--adviser", "adviser_email", default="", help="The email of the adviser who follows up.")
@click.option("--external-ref", default="", help="Your CRM's reference; the same reference twice is one request.")
@click.option("--override-throttle", is_flag=True, help="Ask even if the client was asked recently.")
@friendly_errors
def feedback_link_command(practice_slug: str, partner: str, client_email: str, client_name: str, touchpoint: str,
                          adviser_email: str, external_ref: str, override_throttle: bool) -> None:
    """Create a feedback request, queue its invitation email and print the client's link."""
    # Imported here, not at the top, so that `partnermon --help` starts without the models and services.
    from partnermon.db import utcnow
    from partnermon.feedback import links
    from partnermon.practices import service as practices

    runtime = open_runtime()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        data = {"partner": partner, "client_email": client_email, "client_name": client_name,
                "touchpoint": touchpoint, "adviser_email": adviser_email, "external_ref": external_ref}
        try:
            made = links.create_request(session, utcnow(), practice, data, actor="cli", source="cli",
                                           base_url=runtime.settings.base_url, override_throttle=override_throttle)
        except ValidationError as exc:
            field, message = next(iter(exc.errors.items()))
            if isinstance(exc, links.Throttled):
                message = message.removesuffix(" An adviser can ask anyway.") + " Add --override-throttle to ask anyway."
            fail(f"{OPTION_OF.get(field, field)}: {message}")
        if made.link is None:
            # Only the token's hash is kept, so an existing request's link cannot be printed again.
            fail(f"--external-ref: {external_ref!r} already names a request to {made.request.client_email} made on "
                 f"{made.request.created_at:%d %b %Y}; its link cannot be shown again. Use another reference.")
        session.commit()
        click.echo(made.link)
