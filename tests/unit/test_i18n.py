"""One catalogue: every user-facing string has a Spanish translation with the same placeholders."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from enertrack.i18n import LANGUAGES, language, tr, translator

ROOT = Path(__file__).resolve().parents[2]
extract = runpy.run_path(str(ROOT / "scripts" / "catalogue.py"))["extract"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def msgids() -> list[str]:
    return [str(message.id) for message in extract() if message.id]


def test_catalogue_is_extracted_from_the_code() -> None:
    ids = msgids()
    assert len(ids) > 50
    assert "Wrong username or password." in ids and "Voltage" in ids  # tr() calls and N_() markers


@pytest.mark.parametrize("msgid", msgids())
def test_every_string_is_translated_to_spanish(msgid: str) -> None:
    spanish = tr("es", msgid) if "{" not in msgid else translator("es")(msgid, **{
        name: "X" for name in PLACEHOLDER.findall(msgid)})
    english = msgid if "{" not in msgid else msgid.format(**{name: "X" for name in PLACEHOLDER.findall(msgid)})
    assert spanish != english or msgid in {"Panel", "Total"}, f"untranslated: {msgid!r}"  # same word in both


def test_placeholders_survive_translation() -> None:
    from enertrack.i18n import _catalogue

    for msgid, spanish in _catalogue("es").items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(spanish)), msgid


def test_spanish_is_the_default_and_english_on_request() -> None:
    assert tr(None, "Log in") == "Iniciar sesión"
    assert tr("en", "Log in") == "Log in"
    assert tr("fr", "Log in") == "Iniciar sesión"
    assert language({"not": "a string"}) == "es" and set(LANGUAGES) == {"es", "en"}
    assert tr("es", "Welcome, {name}.", name="Ana") == "Hola, Ana."


def test_no_string_hides_from_the_extractor() -> None:
    """Babel extracts only _(), tr() and N_(): translator(lang)("...") would ship English to everyone."""
    import ast

    found = []
    for path in [*(ROOT / "pages").rglob("*.py"), *(ROOT / "enertrack").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Call)
                    and getattr(node.func.func, "id", None) in ("translator", "user_translator")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], "use tr(lang, '...') or _ = translator(lang); _('...') instead"


def test_every_rejection_reason_is_explained() -> None:
    from enertrack.ingest.payload import Reason
    from enertrack.web.ui.reasons import EXPLANATIONS

    assert {r.value for r in Reason} <= set(EXPLANATIONS)
