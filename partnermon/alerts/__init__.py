"""Alerts about partner touchpoints (DESIGN.md §1.4): emails to the practice's staff when a probe finds
something they should act on. Every one goes through the outbox with a dedupe key, so a mail server that is
down delays alerts and loses none, and a retried job or a restarted worker never sends one twice.

- ``subscriptions``: who is told about which partner (owners unless they opt out; advisers who opt in).
- ``incidents``: an outage opening, reminders while it lasts, its resolution; muted by maintenance.
- ``touchpoint_health``: a certificate about to expire, a page that no longer offers a way to reach a person.
- ``emails``: one function per email.
- ``delivery``: how each alert reaches a user (immediate, daily digest or off; quiet hours; one-click
  unsubscribe). Every alert email, follow-ups' too, goes through ``delivery.deliver``.
- ``digests``: the daily digest job, at 08:00 in the practice's time zone.
"""
