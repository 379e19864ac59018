"""partnermon: partner-experience monitoring for professional practices.

The web app is built by :func:`partnermon.app.create_app`; the command line lives in
:mod:`partnermon.cli`. Services are plain functions of ``(session, now, ...)``.
"""

__version__ = "0.1.0"
