"""Fast over a real network: every text response compressed, static files cached for a year.

- Flask-Compress compresses what the app answers (pages, callback JSON, CSV downloads): brotli
  when the browser accepts it, gzip otherwise, nothing when it asks for neither.
- Static files (Dash's component bundles and their lazily loaded chunks, /assets, the favicon)
  are compressed once per worker and kept (a bounded cache), so serving them costs no CPU.
- Their URLs carry a version, so they are cached `immutable` for a year and a warm page load
  asks for none of them: Dash's bundles under a directory named after the package version
  (the chunks Dash's bundles load are fetched relative to it, so they are versioned too),
  /assets with Dash's `?m=<mtime>` or our `?v=<content hash>`.
- Pages, callbacks and downloads are `no-store`: they hold one user's data.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from threading import Lock
from typing import Any

import brotli
from dash import Dash
from flask import Flask, Response, current_app, request
from flask_compress import Compress

from enertrack.checkout import ROOT
from enertrack.config import URL_PREFIX

# dcc.Graph loads plotly.js on first use: our "basic" bundle instead of the full one (see
# assets/plotly-lazy.js), then Plotly's Spanish words and our Spanish dates, in this order.
PLOTLY_JS = "assets/vendor/plotly/plotly-basic.min.js"
PLOTLY_LOCALES = ("assets/vendor/plotly/plotly-locale-es.js", "assets/plotly-dates-es.js")
PLOTLY_LAZY = "assets/plotly-lazy.js"
PLOTLY_ASSETS = r"^(plotly-basic\.min\.js|plotly-lazy\.js|plotly-locale-es\.js|plotly-dates-es\.js)$"
SUITES = URL_PREFIX + "_dash-component-suites/"
ASSETS = URL_PREFIX + "assets/"
FAVICON = URL_PREFIX + "_favicon.ico"
YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NEVER = "no-store"
# Text worth compressing; fonts (woff/woff2) and images are compressed already.
TEXT = frozenset({"text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
                  "application/json", "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon"})
STATIC_BROTLI_QUALITY = 6  # ~0.5 s once per worker for the full plotly.js; 11 took 24 s for 3 % less
STATIC_GZIP_LEVEL = 9
CACHE_ENTRIES = 96  # compressed static bodies kept per worker (a few MB)
EXTENSION = "enertrack.static"
# Dash's own fingerprint in a file name: name.v4_4_1m1796202520.js
FINGERPRINT = re.compile(r"^(?P<name>[^.]+)\.v[\w-]+m[0-9a-f]+\.(?P<ext>.+)$")
SUITE_URL = re.compile(r'(?P<prefix>["\'])(?P<base>[^"\']*/_dash-component-suites/)(?P<pkg>[\w.-]+)/(?P<path>[^"\'?]+)')
VERSIONED = re.compile(r"^_v(?P<token>[0-9a-f]{12})/(?P<path>.+)$")


@lru_cache(maxsize=64)
def package_token(namespace: str) -> str:
    """A short token that changes whenever the installed package does (version, install time)."""
    module = sys.modules.get(namespace)
    version = str(getattr(module, "__version__", ""))
    source = getattr(module, "__file__", None) or ""
    mtime = os.path.getmtime(source) if source and os.path.exists(source) else 0
    return hashlib.sha256(f"{namespace}\0{version}\0{mtime}".encode()).hexdigest()[:12]


def _unfingerprinted(path: str) -> str:
    """dir/name.v1_2m3.js -> dir/name.js (Dash's fingerprint moves to the directory)."""
    head, _, name = path.rpartition("/")
    found = FINGERPRINT.match(name)
    name = f"{found['name']}.{found['ext']}" if found else name
    return f"{head}/{name}" if head else name


def versioned_suites(html: str) -> str:
    """Component-suite URLs in html moved under a versioned directory: .../<pkg>/_v<token>/<path>.

    Dash fingerprints a bundle's file name, but the chunks a bundle loads later (the graph, the
    date picker) are fetched by file name from the bundle's directory: with the version in the
    directory, those are versioned too and can be cached as long as the bundles.
    """
    def move(found: re.Match[str]) -> str:
        pkg, path = found["pkg"], found["path"]
        if path.startswith("_v"):
            return found[0]
        return f"{found['prefix']}{found['base']}{pkg}/_v{package_token(pkg)}/{_unfingerprinted(path)}"

    return SUITE_URL.sub(move, html)


class VersionedSuites(Dash):
    """Dash whose index page loads component bundles from versioned directories."""

    def interpolate_index(self, **kwargs: str) -> str:  # type: ignore[override]
        for key in ("scripts", "css"):
            if key in kwargs:
                kwargs[key] = versioned_suites(kwargs[key])
        return super().interpolate_index(**kwargs)


@lru_cache(maxsize=64)
def _content_hash(path: Path, mtime: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_version(relative: str) -> str:
    """The content hash of a file of the checkout (assets/...), as its URLs carry it."""
    path = ROOT / relative
    return _content_hash(path, path.stat().st_mtime)


def asset_url(relative: str) -> str:
    """/enertrack/assets/...?v=<content hash>: cacheable for a year, new URL when the file changes."""
    return f"{URL_PREFIX}{relative}?v={asset_version(relative)}"


def plotly_scripts() -> list[dict[str, str]]:
    """Dash external_scripts: the lazy-loading pointer to the Plotly bundle, then the locales."""
    return [{"src": asset_url(PLOTLY_LAZY), "data-plotly": asset_url(PLOTLY_JS)},
            *({"src": asset_url(path)} for path in PLOTLY_LOCALES)]


def _serve_versioned_suite() -> Response | None:
    """Before Dash's routing: .../_dash-component-suites/<pkg>/_v<token>/<path> served by Dash."""
    if not request.path.startswith(SUITES):
        return None
    pkg, _, rest = request.path[len(SUITES):].partition("/")
    found = VERSIONED.match(rest)
    if not found:
        return None
    dash_app: Dash = current_app.extensions["dash_app"]
    response: Response = dash_app.backend.serve_component_suites(dash_app, pkg, found["path"])  # type: ignore[attr-defined]
    if response.status_code == 200:
        current = found["token"] == package_token(pkg)
        response.headers["Cache-Control"] = YEAR if current else REVALIDATE  # stale HTML: do not pin it
        if current:
            del response.headers["ETag"]
    return response


def _asset_is_versioned(rel: str) -> bool:
    """An /assets URL whose query names the file's present version (or a vendor's own version)."""
    folder = (ROOT / "assets").resolve()
    path = (folder / rel).resolve()
    if not request.query_string or not path.is_relative_to(folder) or not path.is_file():
        return False
    if "v" in request.args:
        return request.args["v"] == asset_version(f"assets/{rel}")
    if "m" in request.args:  # Dash writes ?m=<os.path.getmtime(file)>
        return request.args["m"] == str(os.path.getmtime(path))
    return True  # e.g. bootstrap-icons' fonts: ?<hash> written by the vendor into its CSS


def cache_control(path: str, response: Response) -> str:
    """The Cache-Control a response gets: a year for versioned static files, never for the rest."""
    if not is_static(path):
        return NEVER
    if response.status_code not in (200, 304):
        return NEVER  # a missing file may exist after the next deployment
    if path.startswith(SUITES):
        if response.headers.get("Cache-Control") in (YEAR, REVALIDATE):
            return response.headers["Cache-Control"]  # set by _serve_versioned_suite
        return YEAR if FINGERPRINT.match(path.rsplit("/", 1)[-1]) else REVALIDATE
    if path.startswith(ASSETS):
        return YEAR if _asset_is_versioned(path[len(ASSETS):]) else REVALIDATE
    return YEAR if request.query_string else REVALIDATE  # the favicon, ?v=<dash version> or ?m=<mtime>


def is_static(path: str) -> bool:
    """Files that are the same for everyone (no cookie needed, none set)."""
    return path.startswith((SUITES, ASSETS)) or path == FAVICON


class CompressedCache:
    """Compressed static bodies by (URL, encoding), least recently used out first."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self._entries = entries
        self._data: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[str, str], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = make()  # outside the lock: other threads keep serving meanwhile
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._entries:
                self._data.popitem(last=False)
        return value


def accepted_encoding(accept: str) -> str | None:
    """'br' or 'gzip' when the Accept-Encoding header allows it (q=0 refuses), else None."""
    offered = {}
    for part in accept.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        offered[name.strip()] = q
    for encoding in ("br", "gzip"):
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return None


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=STATIC_BROTLI_QUALITY)
    import gzip

    return gzip.compress(data, compresslevel=STATIC_GZIP_LEVEL, mtime=0)


def _static_headers(response: Response) -> Response:
    """Caching headers by kind of resource; static bodies compressed from the per-worker cache."""
    path = request.path
    if not path.startswith(URL_PREFIX) and path != URL_PREFIX.rstrip("/"):
        return response
    response.headers["Cache-Control"] = cache_control(path, response)
    if not is_static(path) or response.status_code != 200 or response.mimetype not in TEXT:
        return response
    response.vary.add("Accept-Encoding")
    encoding = accepted_encoding(request.headers.get("Accept-Encoding", ""))
    if encoding is None or "Content-Encoding" in response.headers:
        return response
    response.direct_passthrough = False  # send_file's body is read once, then served from the cache
    key = (request.full_path, encoding)
    body = current_app.extensions[EXTENSION].get(key, lambda: _compress(response.get_data(), encoding))
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding
    response.headers.pop("Accept-Ranges", None)  # byte ranges of the file, not of this encoding
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}:{encoding}", weak=bool(weak))
    return response


class StaticWithoutCookies:
    """WSGI wrapper: static files get neither `Vary: Cookie` nor a Set-Cookie.

    Flask adds both after every hook has run whenever the guard looked at the session; on files
    that are the same for everyone they only make the browser's cache miss after a login.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not is_static(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = []
            for name, value in headers:
                if name.lower() == "set-cookie":
                    continue
                if name.lower() == "vary":
                    value = ", ".join(v.strip() for v in value.split(",") if v.strip().lower() != "cookie")
                    if not value:
                        continue
                kept.append((name, value))
            return start_response(status, kept, exc_info)

        return self.app(environ, start)


def configure(server: Flask) -> None:
    """Flask-Compress settings (before Compress reads them): brotli, else gzip; CSV too."""
    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "gzip"],  # the CSV download is streamed
        COMPRESS_MIMETYPES=sorted(TEXT),
        COMPRESS_BR_LEVEL=4,  # per response: fast, and most of brotli's gain
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=500,
    )


def init_static(server: Flask) -> None:
    """Compression, versioned bundles and caching headers on server (after the guard is installed)."""
    configure(server)
    server.extensions[EXTENSION] = CompressedCache()
    server.before_request(_serve_versioned_suite)
    Compress(server)
    # Registered after Compress, so it runs before it (Flask runs after_request hooks last-first):
    # static bodies arrive compressed from the cache and Compress leaves them alone.
    server.after_request(_static_headers)
    server.wsgi_app = StaticWithoutCookies(server.wsgi_app)  # type: ignore[method-assign]
