"""Skip-or-fail for tests that need a service: a visible skip on a user's machine, a failure in CI."""

from __future__ import annotations

import os
import shutil

import pytest

from enertrack.ports import free_port, port_open

# The port probes live in the package, where the demo uses them too; the tests import them from here.
__all__ = ["IN_CI", "free_port", "need", "need_binary", "port_open"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip (or fail when CI=true) with reason unless condition holds."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def need_binary(name: str, hint: str) -> str:
    """Path of an executable, or skip/fail saying how to install it."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    need(path is not None, f"{name} not found: {hint}")
    return str(path)
