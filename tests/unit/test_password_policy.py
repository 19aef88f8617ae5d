"""The password policy: long enough, not personal, hard to guess (zxcvbn)."""

from __future__ import annotations

import pytest

from enertrack.password_policy import new_password_problem


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "password_short"),
    ("x" * 129, "password_long"),
    ("aaaaaaaaaaaa", "password_weak"),
    ("password1234", "password_weak"),
    ("qwertyuiop123", "password_weak"),
    ("123456789012", "password_weak"),
    ("ana@example.com", "password_personal"),
    ("ANA@EXAMPLE.COM", "password_personal"),
    ("my name is ana_lopez!", "password_personal"),
    ("ana.lopez.garcia 2026", "password_personal"),  # the address's local part
    ("correct horse battery staple", None),
    ("a long enough password", None),
    ("Tr0ub4dor&3 zebra plinth", None),
    ("y" * 20 + "Zq8!wMp3#vT6 rL1 eN0 kB5 sH2 gF7 cD4 xA9 jU0 oI3 pY6 tR8 wE1", None),  # > 72: the first 72 decide
])
def test_new_password_problem(password: str, problem: str | None) -> None:
    assert new_password_problem(password, "ana_lopez", "ana.lopez.garcia@example.com"
                                if "garcia" in password else "ana@example.com") == problem


def test_a_short_name_inside_an_ordinary_word_is_not_refused() -> None:
    assert new_password_problem("banana split at midnight", "ana", "ana@example.com") is None
    assert new_password_problem("ana@example.com", "ana", "ana@example.com") == "password_personal"
    assert new_password_problem("ana ana ana ana", "ana", "x@example.com") == "password_weak"
