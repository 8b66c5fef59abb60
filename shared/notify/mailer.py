"""Send one plain-text mail through an SMTP relay (stdlib smtplib)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from shared.config import load
from shared.notify.settings import MailSettings


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str, message_id: str | None = None) -> None:
        """Deliver the mail or raise (the outbox counts the attempt and retries)."""
        ...


class SmtpMailer:
    def __init__(self, settings: MailSettings | None = None) -> None:
        self.settings = settings or load(MailSettings)

    def build(self, *, to: str, subject: str, body: str, message_id: str | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # A stable Message-ID per notification lets mail systems drop a resend of the same mail.
        message["Message-ID"] = message_id or make_msgid(domain="shortpub")
        message.set_content(body)
        return message

    def send(self, *, to: str, subject: str, body: str, message_id: str | None = None) -> None:
        settings = self.settings
        message = self.build(to=to, subject=subject, body=body, message_id=message_id)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
