"""Sending e-mail over SMTP (the standard library's smtplib), configured from the settings.

Password reset, sign-up confirmation and alert e-mail all go through deliver(). Settings:
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
        return smtp_url_config(settings.smtp_url, sender)
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


def smtp_url_config(url: str, sender: str) -> SmtpConfig:
    """The SmtpConfig an smtp:// or smtps:// URL names (STARTTLS with ?starttls=true)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("ENERTRACK_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
    wants = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in ("1", "true", "yes", "on")
    security: Literal["starttls", "tls", "none"] = "tls" if parts.scheme == "smtps" else (
        "starttls" if wants else "none")
    return SmtpConfig(parts.hostname, parts.port or (465 if security == "tls" else 587),
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, security, sender)


def deliver(config: SmtpConfig, mail: EmailMessage) -> None:
    """Hand one message to the SMTP server; MailError when that fails or it refuses a recipient."""
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
            refused = client.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot send e-mail through {config.host}:{config.port}: {exc}") from exc
    if refused:
        raise MailError(f"{config.host}:{config.port} refused {', '.join(refused)}")


def send(config: SmtpConfig, to: str, subject: str, body: str) -> None:
    """Hand one plain-text message to the SMTP server; MailError when that fails."""
    deliver(config, message(config, to, subject, body))
