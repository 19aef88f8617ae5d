"""Alert e-mail: plain text and HTML in one message, sent through enertrack/mail.py."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from enertrack.alerts.channels import DeliveryError
from enertrack.alerts.messages import Message
from enertrack.mail import MailError, SmtpConfig, deliver, smtp_url_config


class SmtpMailer:
    """Sends alert e-mail through the installation's SMTP server (the same one password reset uses)."""

    name = "email"

    def __init__(self, config: SmtpConfig | str, sender: str | None = None) -> None:
        # A URL and a sender (tests, scripts) or the SmtpConfig the settings make (mail.smtp_config).
        self.config = smtp_url_config(config, sender or "") if isinstance(config, str) else config

    def build(self, to: str, message: Message) -> EmailMessage:
        """The MIME message: text/plain first, text/html as the alternative."""
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="enertrack")
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, destination: str, secret: str | None, message: Message) -> str:
        """Deliver to one address; DeliveryError with the server's words otherwise."""
        try:
            deliver(self.config, self.build(destination, message))
        except MailError as exc:
            raise DeliveryError(str(exc)) from exc
        return f"accepted by {self.config.host}:{self.config.port}"
