"""Email: the outbox (every email is a row first), the SMTP transport, the sender that drains it, and the Jinja
environment (``rendering``) that renders emails, and the monthly report's HTML, outside a Flask request."""
