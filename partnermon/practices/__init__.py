"""Practices (DESIGN.md §3, Practice): the tenant, and the settings every other part reads from it.

- ``service``: creating a practice (with its default moments of truth) and changing its settings and logo.
  Callers import it as ``from partnermon.practices import service as practices``.
- ``business_hours``: is a moment inside the practice's business hours, how much of a period is, and when a
  number of business hours runs out. Pure arithmetic; knows nothing of the database.
- ``countries``: the practice's country (for reading phone numbers written without a country code), by
  default the one its time zone lies in.

Nothing is imported here, so importing ``countries`` (as migration 0012 does) or ``business_hours`` loads
neither the services nor what they need.
"""
