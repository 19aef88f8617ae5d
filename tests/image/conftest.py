"""The built container image, run from its own filesystem (`make test-image` builds it first).

No container can be started on the development machines (crun stops on cgroups, runc on
rlimits), so the image's root filesystem is mounted with `podman image mount` and its commands
run there under `chroot`, with the image's own user, environment and working directory, in a
private mount namespace holding /proc, /dev, a writable /tmp and the /data volume.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

IMAGE = os.environ.get("ENERTRACK_TEST_IMAGE", "")
# Only `make test-image` (which builds the image and sets ENERTRACK_TEST_IMAGE) collects these:
# `make test` must stay well under 15 minutes, and a build takes minutes.
collect_ignore_glob = [] if IMAGE else ["test_*.py"]


@dataclass(frozen=True)
class Image:
    """A mounted image: its root filesystem and the configuration `docker run` would apply."""

    name: str
    root: Path
    env: dict[str, str]
    workdir: str
    uid: int
    gid: int
    cmd: list[str]
    healthcheck: list[str]

    def command(self, args: Sequence[str], volume: Path, env: Mapping[str, str] | None = None) -> list[str]:
        """argv that runs args in the image as its user, with volume mounted at /data."""
        environment = {**self.env, **(env or {})}
        root = shlex.quote(str(self.root))
        mounts = " && ".join([
            f"mount -t proc proc {root}/proc",
            f"mount --rbind /dev {root}/dev",
            f"mount -t tmpfs -o mode=1777 tmpfs {root}/tmp",
            f"mount --bind {shlex.quote(str(volume))} {root}/data",
        ])
        inner = ["env", "-i", *(f"{k}={v}" for k, v in environment.items()),
                 "sh", "-c", f"cd {shlex.quote(self.workdir)} && exec \"$@\"", "image-cmd", *args]
        chroot = ["chroot", f"--userspec={self.uid}:{self.gid}", "--groups=", str(self.root), *inner]
        # Without --fork, unshare execs in place: the returned process becomes the image's command.
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                f"{mounts} && exec {shlex.join(chroot)}"]

    def run(self, args: Sequence[str], volume: Path, env: Mapping[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command to completion in the image."""
        return subprocess.run(self.command(args, volume, env), capture_output=True, text=True, timeout=timeout)

    def start(self, args: Sequence[str], volume: Path, log: Path,
              env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start a long-running command (the caller stops it) with its output in log."""
        with log.open("ab") as handle:
            return subprocess.Popen(self.command(args, volume, env), stdout=handle, stderr=subprocess.STDOUT)


def _inspect(name: str) -> dict[str, object]:
    out = subprocess.run(["podman", "image", "inspect", "--format", "json", name],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


def _ids(root: Path, user: str) -> tuple[int, int]:
    """uid and gid of user from the image's own /etc/passwd (a number passes through)."""
    name = user.split(":", 1)[0]
    if name.isdigit():
        return int(name), int(name)
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"the image's USER {name!r} is not in its /etc/passwd")


@pytest.fixture(scope="session")
def image() -> Iterator[Image]:
    """The image named by ENERTRACK_TEST_IMAGE, mounted read-only for the session."""
    assert shutil.which("podman"), "podman is needed (make test-image installs it)"
    info = _inspect(IMAGE)
    config = info["Config"]
    assert isinstance(config, dict)
    mounted = subprocess.run(["podman", "image", "mount", IMAGE], capture_output=True, text=True, check=True)
    root = Path(mounted.stdout.strip())
    try:
        env = dict(item.split("=", 1) for item in config.get("Env") or [])
        uid, gid = _ids(root, config.get("User") or "0")
        health = (info.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test") or []
        yield Image(IMAGE, root, env, config.get("WorkingDir") or "/", uid, gid,
                    list(config.get("Cmd") or []), list(health))
    finally:
        subprocess.run(["podman", "image", "unmount", IMAGE], capture_output=True)


@pytest.fixture
def volume(tmp_path: Path, image: Image) -> Path:
    """An empty /data volume owned by the image's user, as a fresh named volume would be."""
    path = tmp_path / "volume"
    path.mkdir()
    os.chown(path, image.uid, image.gid)
    return path
