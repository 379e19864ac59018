"""gunicorn's settings for ``gunicorn wsgi:app``, read from the folder it starts in.

Only one thing: partnermon's settings and database are checked once in gunicorn's master, before it listens
or boots a worker. A problem (a bad PARTNERMON_* variable, a database that does not answer or is not
migrated) is one line and exit status 3, rather than workers that fail and are booted again forever.
"""


def on_starting(server: object) -> None:
    from partnermon.cli.support import check_before_serving

    check_before_serving()
