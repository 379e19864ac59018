"""Closing the loop (DESIGN.md §1.4): follow-ups for clients who are unhappy, say the practice looks worse,
or ask for a person — each with an assignee, a deadline in business hours and an outcome.

- ``rules``: when one opens, how severe and urgent, the suggested channel, the deadline; the settings.
- ``service``: opening one from a response (with the alert), and the steps: contacted, resolved, reopened,
  reassigned (also when a user can no longer work them).
- ``ladder``: the rungs (email → phone call → meeting), stepping up and down. ``timeline``: who may act, the
  practice's owners, a step on a follow-up's timeline and its note, shared by ``service`` and ``ladder``.
- ``recovery``: the recovery check-in a set time after resolving ("Did {practice} put things right?"), its
  link and the client's answer ("no" reopens one rung up).
- ``deadlines``: the periodic check that tells the owners, and reminds the assignee, once per deadline.
- ``emails``: one function per email. ``exports``: rows for ``partnermon export --what followups``.
"""

from partnermon.followups.service import may_open, open_for_response

__all__ = ["may_open", "open_for_response"]
