"""WSGI entry point for gunicorn: `gunicorn wsgi:server -b 0.0.0.0:8006` (see docs/deployment.md)."""

import sys

from enertrack.config import ConfigError, load_settings

# gunicorn's "App failed to load": its arbiter stops, instead of booting the worker again forever.
APP_LOAD_ERROR = 4

try:
    settings = load_settings()
    from enertrack.web.app import create_app  # after the settings: a bad one costs no Dash import

    server = create_app(settings)  # refuses an install without the checkout's pages/ and assets/
except ConfigError as exc:  # one line per problem, as `enertrack serve` prints them; no traceback
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)
