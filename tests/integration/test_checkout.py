"""EnerTrack runs from its checkout: an install without pages/, assets/ and migrations/ says so in one line."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement

from enertrack import checkout
from enertrack.cli.main import main
from enertrack.config import ConfigError, Settings
from tests.services import need

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = ("EnerTrack runs from its source checkout, but pages, assets, migrations, alembic.ini are missing beside the "
           "enertrack package in {root}: install it from a clone with `pip install -e .` (not `pip install .`), "
           "see docs/deployment.md")


@pytest.fixture
def no_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The package as `pip install .` leaves it: nothing beside it. Returns the expected message."""
    monkeypatch.setattr(checkout, "ROOT", tmp_path / "site-packages")
    return MESSAGE.format(root=tmp_path / "site-packages")


def test_the_checkout_has_everything_the_app_needs() -> None:
    assert checkout.checkout_problems() == []


def test_one_missing_folder_is_named(tmp_path: Path) -> None:
    for name in ("pages", "assets", "migrations"):
        (tmp_path / name).mkdir()
    assert checkout.checkout_problems(tmp_path)[0].startswith(
        "EnerTrack runs from its source checkout, but alembic.ini is missing beside")


# settings first: its migration runs before the checkout disappears
def test_app_and_migrations_refuse_without_the_checkout(settings: Settings, no_checkout: str) -> None:
    from enertrack.migrate import alembic_config
    from enertrack.web.app import create_app

    for build in (lambda: create_app(settings), alembic_config):
        with pytest.raises(ConfigError) as info:
            build()
        assert info.value.problems == [no_checkout]


@pytest.mark.parametrize("args", [("serve",), ("db", "upgrade"), ("demo", "--broker", "none", "--data-dir", "DATA")])
def test_commands_refuse_without_the_checkout(no_checkout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              args: tuple[str, ...]) -> None:
    started: list[object] = []
    monkeypatch.setattr("enertrack.web.server.run_gunicorn", lambda *a, **k: started.append(a))
    monkeypatch.setattr("enertrack.cli.demo._spawn", lambda *a, **k: started.append(a))
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path / "data"), "ENERTRACK_PORT": "18999"}
    result = CliRunner().invoke(main, [str(tmp_path / "data") if a == "DATA" else a for a in args], env=env)
    assert (result.exit_code, started) == (2, []), result.output
    assert result.output == f"error: {no_checkout}\n"
    assert not (tmp_path / "data").exists()  # refused before anything was created


def test_wsgi_refuses_without_the_checkout(no_checkout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENERTRACK_ENV", "development")
    monkeypatch.setenv("ENERTRACK_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(ROOT / "wsgi.py"))
    assert info.value.code == 4 and capsys.readouterr().err == f"error: {no_checkout}\n"


def unmet_build_requirements() -> list[str]:
    """pyproject's build-system requirements this Python's environment does not satisfy."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    unmet = []
    for requirement in map(Requirement, requires):
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{requirement} (installed: {installed or 'none'})")
    return unmet


# What a clone does not hold: the copy is a fresh checkout, so nothing of a local build leaks in.
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "data", "*.egg-info", "__pycache__",
                                        ".*_cache", "*.sqlite3*", ".env")


def test_a_plain_pip_install_says_how_to_install(tmp_path: Path) -> None:
    """The real thing: `pip install .` (not -e) of this checkout, then the app from that copy."""
    # Offline and outside the checkout: the build runs with the environment's own setuptools (the
    # [test] extra installs the one pyproject asks for) on a copy, where pip leaves its build/.
    unmet = unmet_build_requirements()
    need(not unmet, f"cannot build EnerTrack's wheel offline here, the environment lacks {', '.join(unmet)}: "
                    f"run {sys.executable} -m pip install -e '.[test]'")
    source = tmp_path / "checkout"
    shutil.copytree(ROOT, source, ignore=NOT_IN_A_CLONE)
    site = tmp_path / "site-packages"
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                            "--no-build-isolation", "--target", str(site), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    assert (site / "enertrack" / "checkout.py").exists() and not (site / "pages").exists()
    env = {**os.environ, "PYTHONPATH": str(site), "ENERTRACK_ENV": "development",
           "ENERTRACK_DATA_DIR": str(tmp_path / "data")}
    code = "from enertrack.web.app import create_app; create_app()"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert MESSAGE.format(root=site) in result.stderr
