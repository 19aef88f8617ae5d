"""Where the app's non-Python parts live: beside the package, in the source checkout it runs from.

pages/, assets/, migrations/ and alembic.ini are not package data: EnerTrack runs from a clone
installed with `pip install -e .` (docs/deployment.md). A plain `pip install .` copies only the
package; this says so in one line instead of failing somewhere inside Dash or Alembic.
"""

from __future__ import annotations

from pathlib import Path

from enertrack.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("pages", "assets", "migrations", "alembic.ini")


def checkout_problems(root: Path | None = None) -> list[str]:
    """One line naming what is missing beside the package, or nothing."""
    root = root or ROOT
    missing = [name for name in NEEDED if not (root / name).exists()]
    if not missing:
        return []
    verb = "is" if len(missing) == 1 else "are"
    return [f"EnerTrack runs from its source checkout, but {', '.join(missing)} {verb} missing beside the "
            f"enertrack package in {root}: install it from a clone with `pip install -e .` (not `pip install .`), "
            "see docs/deployment.md"]


def require_checkout() -> Path:
    """The checkout's root; ConfigError when the package was installed without it."""
    if problems := checkout_problems():
        raise ConfigError(problems)
    return ROOT
