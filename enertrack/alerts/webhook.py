"""Alert webhooks: a signed JSON POST, retried with backoff, only to public http(s) addresses."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from enertrack.alerts.channels import DeliveryError
from enertrack.alerts.messages import Message

SIGNATURE_HEADER = "X-EnerTrack-Signature"
TIMESTAMP_HEADER = "X-EnerTrack-Timestamp"
ANSWER_MAX = 200


class Transient(DeliveryError):
    """Worth another try: the network failed, or the receiver answered 5xx or 429."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """'sha256=<hex>' of HMAC-SHA256(secret, '<timestamp>.<body>') (the timestamp stops replays)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def url_problem(url: str, allow_private: bool, resolve: bool = True) -> str | None:
    """Why this URL may not receive webhooks, or None.

    Only http and https, and (unless the operator allows it) only hosts whose every address is
    public: never loopback, private, link-local, multicast or reserved networks.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the webhook URL must start with http:// or https:// and name a host"
    if parts.username or parts.password:
        return "the webhook URL must not contain a user name or password; the signature authenticates it"
    if allow_private or not resolve:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return f"the webhook host {parts.hostname} does not resolve ({exc})"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global:
            return (f"the webhook host {parts.hostname} is a loopback, private or link-local address ({address});"
                    " set ENERTRACK_WEBHOOK_ALLOW_PRIVATE=true to allow it")
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could point at an address the check refused: treat it as the answer."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class WebhookSender:
    """POSTs one message's JSON to one URL with its signature, retrying transient failures."""

    name = "webhook"

    def __init__(self, allow_private: bool, attempts: int = 4, backoff_s: float = 2.0, timeout_s: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.allow_private = allow_private
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.opener = urllib.request.build_opener(_NoRedirect())

    def _post(self, url: str, secret: str, body: bytes) -> str:
        problem = url_problem(url, self.allow_private)  # again at each try: DNS answers change
        if problem:
            raise DeliveryError(problem)
        stamp = int(self.clock())
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "EnerTrack-Alerts",
            TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(secret, stamp, body)})
        try:
            with self.opener.open(request, timeout=self.timeout_s) as answer:
                return f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            text = f"HTTP {exc.code} from {urlsplit(url).hostname}"
            if exc.code >= 500 or exc.code == 429:
                raise Transient(text) from exc
            raise DeliveryError(text) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise Transient(f"{urlsplit(url).hostname}: {getattr(exc, 'reason', exc)}") from exc

    def send(self, destination: str, secret: str | None, message: Message) -> str:
        """Deliver, retrying network errors, 5xx and 429 with exponential backoff."""
        body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
        retrying = Retrying(stop=stop_after_attempt(self.attempts),
                            wait=wait_exponential(multiplier=self.backoff_s, max=60),
                            retry=retry_if_exception(lambda exc: isinstance(exc, Transient)), reraise=True)
        tries = 0
        for attempt in retrying:
            with attempt:
                tries += 1
                answer = self._post(destination, secret or "", body)
        return answer + (f" after {tries} attempts" if tries > 1 else "")
