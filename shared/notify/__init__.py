"""Notification mails: templates, the outbox in PostgreSQL, SMTP delivery, a local SMTP server."""

from shared.notify.mailer import Mailer, SmtpMailer
from shared.notify.outbox import MAX_ATTEMPTS, drain_outbox, queue_email

__all__ = ["MAX_ATTEMPTS", "Mailer", "SmtpMailer", "drain_outbox", "queue_email"]
