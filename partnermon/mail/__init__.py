"""Email: the outbox (every email is a row first), the SMTP transport, and the sender that drains it."""
