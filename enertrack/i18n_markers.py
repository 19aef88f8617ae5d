"""Marker for strings translated later (extracted into the catalogue, returned unchanged)."""


def N_(msgid: str) -> str:
    """Mark a module-level string for the catalogue without translating it now."""
    return msgid
