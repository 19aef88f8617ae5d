"""Security headers on every response: a CSP Dash works under, no framing, nosniff, referrer, HSTS.

Scripts: only our own files and the inline scripts Dash writes into its index page (its
renderer, clientside callbacks) and ours (the theme set before the first paint), allowed one
by one by their SHA-256 (Dash's csp_hashes) - no 'unsafe-inline' for scripts. Styles keep
'unsafe-inline': React and Plotly set style attributes on every element they draw.
Six fixed headers do not need a library (flask-talisman would also take over HTTPS redirects
and cookie flags, which create_app already sets from the settings).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from dash import Dash
from flask import Flask, Response

HSTS = "max-age=31536000; includeSubDomains"  # one year, as the nginx template says


def script_hash(script: str) -> str:
    """The CSP source for one inline script's exact text."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """The CSP for EnerTrack's pages, allowing the given inline scripts."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *sorted(set(script_hashes))],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],  # Plotly's toImage and logos are data: URLs
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(csp: str, *, https: bool) -> dict[str, str]:
    """Every header EnerTrack adds to its responses."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def init_headers(server: Flask, dash_app: Dash, *, https: bool, inline_scripts: Iterable[str] = ()) -> None:
    """Add the headers to every response; call after every callback (and clientside one) is defined."""
    hashes = [*dash_app.csp_hashes("sha256"), *(script_hash(s) for s in inline_scripts)]
    headers = security_headers(content_security_policy(hashes), https=https)

    @server.after_request
    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
