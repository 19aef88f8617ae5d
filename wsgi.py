"""WSGI entry point for gunicorn: `gunicorn wsgi:server -b 0.0.0.0:8006` (see docs/deployment.md)."""

import sys

from enertrack.config import ConfigError, load_settings

# gunicorn's "App failed to load": its arbiter stops, instead of booting the worker again forever.
APP_LOAD_ERROR = 4

try:
    settings = load_settings()
except ConfigError as exc:  # one line per problem, as `enertrack serve` prints them; no traceback
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)

from enertrack.app import create_app  # noqa: E402 - after the settings, so a bad config costs no import

server = create_app(settings)
