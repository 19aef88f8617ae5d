"""deploy/*.service parse cleanly (`systemd-analyze verify`), stay hardened (`systemd-analyze security`), and start."""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from enertrack.cli.main import main
from tests.services import need_binary

ROOT = Path(__file__).resolve().parent.parent.parent
UNITS = ["enertrack-web.service", "enertrack-ingest.service"]
EXPOSURE_MAX = 2.0  # systemd's scale: 0 (locked down) to 10 ("UNSAFE"), --threshold in tenths; 7.3 as first shipped
HINT = "systemd-analyze comes with Debian's systemd package"


def _local_copy(tmp_path: Path, unit: str, text: str | None = None) -> Path:
    """The unit with /opt/enertrack pointing at this checkout, whose commands exist (verify checks them)."""
    text = text if text is not None else (ROOT / "deploy" / unit).read_text()
    text = text.replace("/opt/enertrack/.venv/bin/python", sys.executable)
    text = text.replace("/opt/enertrack/.venv/bin/", f"{Path(sys.executable).parent}/").replace("/opt/enertrack", str(ROOT))
    path = tmp_path / unit
    path.write_text(text)
    return path


def _service(unit: str) -> dict[str, list[str]]:
    """Every [Service] key with all of its values (systemd allows repeats)."""
    parser = configparser.RawConfigParser(strict=False, dict_type=_MultiDict)  # type: ignore[arg-type]
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((ROOT / "deploy" / unit).read_text())
    return {k: v.split("\n") for k, v in parser["Service"].items()}


class _MultiDict(dict[str, Any]):
    """configparser storage that joins repeated keys with newlines instead of keeping the last."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list) and key in self and isinstance(self[key], list):
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_reports_nothing(tmp_path: Path, unit: str) -> None:
    analyze = need_binary("systemd-analyze", HINT)
    done = subprocess.run([analyze, "verify", str(_local_copy(tmp_path, unit))], capture_output=True, text=True)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_verify_does_report_a_mistyped_directive(tmp_path: Path) -> None:
    analyze = need_binary("systemd-analyze", HINT)
    text = (ROOT / "deploy" / UNITS[0]).read_text().replace("ProtectSystem=strict", "ProtectSystem=stritc")
    done = subprocess.run([analyze, "verify", str(_local_copy(tmp_path, UNITS[0], text))], capture_output=True,
                          text=True)
    assert "Failed to parse protect system value" in done.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_exposure_stays_low(tmp_path: Path, unit: str) -> None:
    analyze = need_binary("systemd-analyze", HINT)
    done = subprocess.run([analyze, "security", "--offline=true", f"--threshold={int(EXPOSURE_MAX * 10)}", "--no-pager",
                           str(_local_copy(tmp_path, unit))], capture_output=True, text=True)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout + done.stderr)
    assert level, done.stdout + done.stderr
    assert done.returncode == 0 and float(level.group(1)) <= EXPOSURE_MAX, level.group(0)


@pytest.mark.parametrize("unit", UNITS)
def test_units_have_the_hardening_the_issue_names(unit: str) -> None:
    service = _service(unit)
    for key, value in {"NoNewPrivileges": "true", "ProtectSystem": "strict", "PrivateTmp": "true",
                       "ProtectHome": "true", "ReadWritePaths": "/opt/enertrack/data", "User": "enertrack",
                       "CapabilityBoundingSet": ""}.items():
        assert service.get(key) == [value], (key, service.get(key))


def test_the_web_unit_starts_serve_with_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The unit once passed --workers 2, which serve now refuses with memory:// limits: run its own ExecStart.
    [command] = _service(UNITS[0])["ExecStart"]
    argv = shlex.split(command)
    assert argv[0] == "/opt/enertrack/.venv/bin/enertrack"
    seen: list[object] = []
    monkeypatch.setattr("enertrack.web.server._Gunicorn.run", lambda self: seen.append(self.cfg))
    env = {"ENERTRACK_ENV": "production", "FLASK_SECRET_KEY": "k" * 64, "ENERTRACK_DATA_DIR": str(tmp_path),
           "RATELIMIT_STORAGE_URI": "memory://", "ENERTRACK_WEB_WORKERS": "", "ENERTRACK_WEB_THREADS": ""}
    env = {k: v for k, v in env.items() if v}
    result = CliRunner().invoke(main, argv[1:], env=env)
    assert result.exit_code == 0, result.output
    [cfg] = seen
    assert (cfg.workers, cfg.bind) == (1, ["127.0.0.1:8006"])  # type: ignore[attr-defined]
