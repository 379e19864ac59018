"""Partners (DESIGN.md §3: Partner, Touchpoint, Moment of truth): what a practice watches, and how.

- ``service``: partners, their touchpoints and the practice's moments of truth — listing, creating, changing
  and deleting them. Every lookup takes the practice id: another practice's id is simply not found. Callers
  import it as ``from partnermon.partners import service as partners``.
- ``probe_settings``: a touchpoint's probe settings: checking what an owner typed, saving it, and turning it
  into the ``probes.ProbeSpec`` that monitoring runs.

Nothing is imported here, so importing one of these modules loads only what it needs.
"""
