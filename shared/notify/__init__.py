"""Notification mails: templates, the outbox in PostgreSQL (`outbox`), SMTP delivery (`mailer`),
a local SMTP server.

No re-exports here: importing `shared.notify.preferences` (the /me routes) must not load the
outbox with psycopg and the SMTP client.
"""
