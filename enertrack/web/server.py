"""Run the web app under gunicorn in-process (what `enertrack serve` and `enertrack demo` do)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from enertrack.config import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Gunicorn with its options given in code; each worker builds its own app (no shared state)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from enertrack.web.app import create_app

        return create_app(self._settings)


def run_gunicorn(settings: Settings, *, host: str, port: int, workers: int = 1, threads: int = 8,
                 extra: dict[str, Any] | None = None) -> None:
    """Serve until stopped (SIGTERM/SIGINT)."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "forwarded_allow_ips": "*" if settings.trusted_proxies else "127.0.0.1",
    }
    options.update(extra or {})
    _Gunicorn(settings, options).run()
