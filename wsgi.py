"""The WSGI entry point for production servers: ``gunicorn wsgi:app``.

Fails at start-up, with a sentence naming host and port, if the database cannot be reached or
its schema is behind (run ``partnermon init-db`` first).
"""

from partnermon.cli_support import build_checked_app

app = build_checked_app()
