"""Accounts (DESIGN.md §3, User): the people of a practice and how they prove who they are.

- ``service``: users — creating and inviting them, signing in (failed attempts limited), passwords, roles,
  deactivation. Callers import it as ``from partnermon.accounts import service as accounts``.
- ``sign_ins``: sign-in sessions on the server: starting one, finding it again, ending it.
- ``security``: password hashing and one-time tokens (feedback links and API keys use the tokens too).
- ``audit``: the audit log — who (a user, an API key, the system) did what, in the caller's transaction.

Nothing is imported here, so importing one of these modules loads only what it needs.
"""
