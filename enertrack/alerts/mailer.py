"""Alert e-mail through SMTP: plain text and HTML in one message.

A minimal sender behind the Channel interface until the accounts work's shared
enertrack/mail.py lands; it reads the same settings (ENERTRACK_SMTP_URL, ENERTRACK_SMTP_FROM).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from enertrack.alerts.channels import DeliveryError
from enertrack.alerts.messages import Message

TRUE = {"1", "true", "yes", "on"}


class SmtpMailer:
    """Sends alert e-mail to the SMTP server an smtp:// or smtps:// URL names."""

    name = "email"

    def __init__(self, url: str, sender: str, timeout_s: float = 20.0) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in TRUE
        self.sender = sender
        self.timeout_s = timeout_s

    def build(self, to: str, message: Message) -> EmailMessage:
        """The MIME message: text/plain first, text/html as the alternative."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="enertrack")
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, destination: str, secret: str | None, message: Message) -> str:
        """Deliver to one address; DeliveryError with the server's words otherwise."""
        context = ssl.create_default_context()
        try:
            if self.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with client:
                if self.starttls:
                    client.starttls(context=context)
                if self.user:
                    client.login(self.user, self.password or "")
                refused = client.send_message(self.build(destination, message))
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        if refused:
            raise DeliveryError(f"SMTP {self.host}:{self.port} refused {', '.join(refused)}")
        return f"accepted by {self.host}:{self.port}"
