"""The JSON API's services (issue 21): reads of a practice's rows, cursor pages, per-key rate limits, scores as
JSON and the OpenAPI document. Plain functions of ``(session, now, ...)``; the Flask views are web/api*.py.
"""
