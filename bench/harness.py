"""What the dashboard benchmarks share: a logged-in app on a big store file, timing, percentiles.

Callbacks are timed as the browser calls them: a POST to _dash-update-component through a
logged-in Flask test client (tests/dash_client.py), so the guard, the ownership checks,
the figures and orjson are all in the figure.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # this checkout's enertrack, not an installed one

from flask import Flask  # noqa: E402

from enertrack.config import Settings, load_settings  # noqa: E402
from enertrack.db import make_engine  # noqa: E402
from enertrack.migrate import upgrade  # noqa: E402
from enertrack.store.sqlite.store import SQLiteStore  # noqa: E402
from enertrack.web.app import create_app  # noqa: E402
from enertrack.web.context import AppServices  # noqa: E402
from enertrack.web.services import accounts  # noqa: E402
from tests.dash_client import DashClient  # noqa: E402

PASSWORD = "kilowatt meadow 7319"
USERNAME = "bench"


def load_average() -> float:
    """The 1-minute load average: how busy the shared machine was."""
    return os.getloadavg()[0]


def p95(samples: Sequence[float]) -> float:
    """The 95th percentile (nearest rank) of samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def percentiles(samples: Sequence[float]) -> str:
    """'p50 … ms  p95 … ms' of samples in seconds."""
    return f"p50 {statistics.median(samples) * 1000:7.1f} ms  p95 {p95(samples) * 1000:7.1f} ms"


def timed(call: Callable[[], object], calls: int, warm_up: int = 1) -> list[float]:
    """Seconds of each of `calls` calls, after `warm_up` untimed ones (page cache, imports)."""
    for _ in range(warm_up):
        call()
    samples = []
    for _ in range(calls):
        begin = time.perf_counter()
        call()
        samples.append(time.perf_counter() - begin)
    return samples


@dataclass
class Bench:
    """A logged-in test client on an app reading the given store."""

    app: Flask
    dash: DashClient
    user_id: int

    @property
    def services(self) -> AppServices:
        return self.app.extensions["enertrack"]  # type: ignore[no-any-return]

    def call(self, fragment: str, inputs: list[Any], state: list[Any] | None = None, **kwargs: Any) -> Any:
        """POST a callback; the JSON response (asserting it answered 200)."""
        response = self.dash.call(fragment, inputs, state, **kwargs)
        assert response.status_code == 200, response.data[:300]
        return response


@contextmanager
def logged_in(store: SQLiteStore, timezone: str,
              add_nodes: Callable[[AppServices, Settings, int], None]) -> Iterator[Bench]:
    """An app on `store` with a fresh users database (temp dir), one user, logged in.

    add_nodes(services, settings, user_id) registers the user's nodes.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(ENERTRACK_ENV="development", ENERTRACK_DATA_DIR=tmp, _env_file=None)
        upgrade(make_engine(settings.sqlalchemy_url))
        app = create_app(settings, store=store)
        services: AppServices = app.extensions["enertrack"]
        with services.transaction() as db:
            user = accounts.create_user(db, accounts.NewAccount(
                USERNAME, "bench@example.com", PASSWORD, PASSWORD, timezone, "en"))
            uid = user.id
        add_nodes(services, settings, uid)
        client = app.test_client()
        dash = DashClient(client, app.extensions["dash_app"])
        answer = client.post("/enertrack/login", data={"username": USERNAME, "password": PASSWORD,
                                                       "csrf_token": dash.csrf_token()})
        assert answer.status_code in (302, 303) and answer.location.endswith("/enertrack/"), answer.data[:300]
        try:
            yield Bench(app, dash, uid)
        finally:
            services.engine.dispose()
