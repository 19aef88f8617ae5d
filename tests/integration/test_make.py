"""make test installs what it can: without a buildable mysqlclient it still installs the test tools and says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.services import need_binary

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for the venv's python: pip cannot build the [mysql] extra, everything else works.
FAKE_PYTHON = """#!/bin/sh
case "$*" in
  *"pip install"*"[test,mysql]"*) echo "$*" >> "$(dirname "$0")/pip.log"; echo "error: mysqlclient failed to build" >&2; exit 1 ;;
  *"pip install"*) echo "$*" >> "$(dirname "$0")/pip.log"; exit 0 ;;
  *) exec {real} "$@" ;;
esac
"""
# On PATH before the real ones: pkg-config finds no MariaDB client library, so the build-deps step
# always reaches its apt-get branch; apt-get only records that it was called. A test never installs.
FAKE_TOOLS = {
    "pkg-config": "#!/bin/sh\nexit 1\n",
    "apt-get": '#!/bin/sh\necho "apt-get $*" >> "$(dirname "$0")/apt.log"\nexit 1\n',
}


def test_make_installs_the_test_tools_when_mysqlclient_cannot_be_built(tmp_path: Path) -> None:
    make = need_binary("make", "sudo apt-get install -y make")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON.format(real=sys.executable))
    python.chmod(0o755)
    tools = tmp_path / "tools"
    tools.mkdir()
    for name, script in FAKE_TOOLS.items():
        (tools / name).write_text(script)
        (tools / name).chmod(0o755)
    env = {**os.environ, "CI": "", "ENERTRACK_NO_APT": "1", "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([make, "-C", str(ROOT), f"VENV={venv}", f"{venv}/.installed-test"],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tools / "apt.log").exists(), (tools / "apt.log").read_text()  # root here, yet nothing installed
    assert "[services] missing: default-libmysqlclient-dev pkg-config" in result.stdout
    installs = (venv / "bin" / "pip.log").read_text().splitlines()
    assert [line.split()[-1] for line in installs] == [".[test,mysql]", ".[test]"]
    assert "mysqlclient (the [mysql] extra) did not build" in result.stdout
    assert "build-essential python3-dev default-libmysqlclient-dev pkg-config" in result.stdout
    assert (venv / ".installed-test").exists() and (venv / ".installed").exists()
