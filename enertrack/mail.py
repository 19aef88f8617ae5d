"""Sending e-mail over SMTP (the standard library's smtplib), configured from the settings.

Password reset uses it now; alerts will send through the same send(). Settings:
ENERTRACK_SMTP_URL (smtp://user:password@host:587?starttls=true, or smtps://... for TLS from the
first byte; the alerts read the same URL), or ENERTRACK_SMTP_HOST/_PORT/_USER/_PASSWORD with
ENERTRACK_SMTP_STARTTLS (true: STARTTLS before logging in), and ENERTRACK_SMTP_FROM.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from enertrack.config import Settings

TIMEOUT_S = 20


class MailError(RuntimeError):
    """E-mail could not be handed to the SMTP server; the message says why."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to send."""

    host: str
    port: int
    user: str | None
    password: str | None
    security: Literal["starttls", "tls", "none"]
    sender: str


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The SMTP server the settings name (the URL wins over host/port/...), or None when there is none."""
    if not settings.mail_configured:
        return None
    sender = settings.smtp_from or ""
    starttls: Literal["starttls", "none"] = "starttls" if settings.smtp_starttls else "none"
    if settings.smtp_url is not None:
        url = urlsplit(settings.smtp_url)
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise MailError("ENERTRACK_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
        # As the alerts' mailer reads the URL: STARTTLS with ?starttls=true.
        wants = parse_qs(url.query).get("starttls", ["false"])[0].lower() in ("1", "true", "yes", "on")
        security: Literal["starttls", "tls", "none"] = "tls" if url.scheme == "smtps" else (
            "starttls" if wants else "none")
        return SmtpConfig(url.hostname, url.port or (465 if security == "tls" else 587),
                          unquote(url.username) if url.username else None,
                          unquote(url.password) if url.password else None, security, sender)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(str(settings.smtp_host), settings.smtp_port, settings.smtp_user, password, starttls, sender)


def message(config: SmtpConfig, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender."""
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(body)
    return mail


def send(config: SmtpConfig, to: str, subject: str, body: str) -> None:
    """Hand one plain-text message to the SMTP server; MailError when that fails."""
    context = ssl.create_default_context()
    try:
        if config.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT_S, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_S)
        with client:
            if config.security == "starttls":
                client.starttls(context=context)
            if config.user:
                client.login(config.user, config.password or "")
            client.send_message(message(config, to, subject, body))
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot send e-mail through {config.host}:{config.port}: {exc}") from exc
