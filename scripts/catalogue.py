"""Re-extract the catalogue and merge it into every language (what `make i18n` runs).

Usage: python scripts/catalogue.py
Adds new msgids to enertrack/locale/<lang>/LC_MESSAGES/messages.po (translate them there),
drops the ones no longer used, and prints the msgids that still lack a translation (exit 1).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "enertrack" / "locale"
KEYWORDS = {"tr": (2,), "_": None, "N_": None}
LANGS = ("es",)


def extract() -> Catalog:
    """Every msgid in enertrack/ and pages/."""
    template = Catalog(project="EnerTrack")
    for folder in ("enertrack", "pages"):
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(message, locations=[(f"{folder}/{filename}", 0)])
    return template


def main() -> int:
    template = extract()
    missing = 0
    for lang in LANGS:
        path = LOCALE / lang / "LC_MESSAGES" / "messages.po"
        catalog = read_po(path.open("rb"), locale=lang) if path.exists() else Catalog(locale=lang, project="EnerTrack")
        created = catalog.creation_date  # keep the header stable: no diff when nothing changed
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created
        for message in catalog:
            if message.id and (not message.string or message.fuzzy):
                missing += 1
                print(f"{lang}: missing translation: {message.id!r}")
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, omit_header=False, no_location=True, sort_output=True, width=100)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
