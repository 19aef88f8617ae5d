"""The one message catalogue: English msgids, Spanish (default) and English output.

Catalogues are gettext .po files read with Babel; `make i18n` re-extracts them.
Every function takes the language explicitly, so layouts stay pure.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from enertrack.i18n_markers import N_

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
LANGUAGES: dict[str, str] = {"es": "Español", "en": "English"}
DEFAULT_LANGUAGE = "es"

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "language", "tr", "translator"]


def language(value: Any) -> str:
    """A supported language code from untrusted input, the default otherwise."""
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=len(LANGUAGES))
def _catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation for one language (fuzzy and empty entries fall back to English)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def tr(lang: str | None, msgid: str, /, **values: Any) -> str:
    """Translate msgid into lang and fill its {placeholders}."""
    text = _catalogue(language(lang)).get(msgid, msgid)
    return text.format(**values) if values else text


def translator(lang: str | None):  # type: ignore[no-untyped-def]
    """A one-argument translate function bound to lang (for layouts with many strings)."""
    code = language(lang)

    def _(msgid: str, /, **values: Any) -> str:
        return tr(code, msgid, **values)

    return _
