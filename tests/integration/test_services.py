"""Tests that need a service skip with the reason on a user's machine and fail in CI, before starting anything."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests import services

pytest_plugins = ("pytester",)


def outcome_of(check: Any) -> tuple[type[BaseException], str]:
    """What pytest is told when check() runs: the exception type and its message."""
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception)) as info:
        check()
    return info.type, str(info.value)


@pytest.mark.parametrize(("in_ci", "expected", "message"), [
    (False, pytest.skip.Exception, "MariaDB is not listening"),
    (True, pytest.fail.Exception, "required service missing in CI: MariaDB is not listening"),
])
def test_need_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch, in_ci: bool,
                                            expected: type[BaseException], message: str) -> None:
    monkeypatch.setattr(services, "IN_CI", in_ci)
    services.need(True, "never shown")  # a service that is there changes nothing
    kind, text = outcome_of(lambda: services.need(False, "MariaDB is not listening"))
    assert kind is expected and text.startswith(message)


def test_need_binary_names_the_missing_program_and_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "IN_CI", False)
    monkeypatch.setattr(shutil, "which", lambda *_a, **_k: None)
    kind, text = outcome_of(lambda: services.need_binary("mosquitto", "apt-get install mosquitto"))
    assert kind is pytest.skip.Exception and text == "mosquitto not found: apt-get install mosquitto"


BROWSER_TEST = """
def test_page(live):
    raise AssertionError("the test ran without a browser")
"""


@pytest.mark.parametrize(("in_ci", "outcome", "said"), [
    (False, {"skipped": 1}, "SKIPPED [1] test_page.py:1: chromium not found (make test installs it"),
    (True, {"errors": 1}, "required service missing in CI: chromium not found"),
])
def test_a_missing_browser_is_reported_before_the_webdriver_starts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, in_ci: bool, outcome: dict[str, int], said: str
) -> None:
    """dash_duo retries a failing webdriver for 30 s and then errors: the browser check must come first."""
    import selenium.webdriver

    def no_webdriver(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("dash_duo started a webdriver")

    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "chromium" else real_which(name, *a, **k))
    monkeypatch.setattr(selenium.webdriver, "Chrome", no_webdriver)
    monkeypatch.setattr(services, "IN_CI", in_ci)
    pytester.makeconftest("from tests.browser.conftest import *  # noqa: F403\n")
    pytester.makepyfile(test_page=BROWSER_TEST)
    result = pytester.runpytest_inprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(**outcome)
    assert said in result.stdout.str() and "chromium not found" in result.stdout.str()
    assert "dash_duo started a webdriver" not in result.stdout.str()


def test_a_mariadb_that_refuses_the_login_is_a_reason_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import mariadb_database

    services.need(services.port_open("127.0.0.1", 3306), "MariaDB is not listening on 127.0.0.1:3306")
    monkeypatch.setattr(services, "IN_CI", False)

    def enter() -> None:
        with mariadb_database("mysql+mysqldb://enertrack_nobody:wrong@127.0.0.1:3306"):
            raise AssertionError("a database was created")

    kind, text = outcome_of(enter)
    assert kind is pytest.skip.Exception
    assert text.startswith("cannot log in to MariaDB as enertrack_nobody@127.0.0.1:3306 (")
    assert "Access denied" in text and "set ENERTRACK_TEST_MYSQL_URL to mysql+mysqldb://USER:PASSWORD@HOST:PORT" in text
    assert "wrong" not in text  # the password stays out of the report
