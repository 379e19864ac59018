"""Monitoring: probe settings, claiming and running due probes, incidents, rollups and statistics.

Services here are plain functions of ``(session, now, ...)``; the network is reached only through
``probes`` (and so through ``probes.fetch``).
"""
