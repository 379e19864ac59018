"""The WSGI entry point for production servers: ``gunicorn wsgi:app``.

Fails at start-up, with one line naming the cause, if a PARTNERMON_* setting cannot be used, the database
cannot be reached or its schema is behind (run ``partnermon init-db`` first). gunicorn checks that once in
its master (gunicorn.conf.py, beside this file); a worker that finds it anyway exits with gunicorn's
WORKER_BOOT_ERROR, which stops gunicorn instead of having it boot the worker again, forever.
"""

from partnermon.cli.support import build_checked_app

app = build_checked_app()
