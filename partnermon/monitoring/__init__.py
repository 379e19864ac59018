"""Monitoring: claiming and running due probes, incidents, rollups and statistics (a touchpoint's probe
settings live with it, in ``partnermon.partners.probe_settings``).

Services here are plain functions of ``(session, now, ...)``; the network is reached only through
``probes`` (and so through ``probes.fetch``).
"""
