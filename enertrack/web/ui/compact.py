"""Chart data in compact form: wall-clock times as numbers, long arrays as base64 typed arrays.

Plotly reads a number on a date axis as milliseconds since the epoch and shows it as UTC; the
local wall-clock time written as such a number is therefore shown exactly as the ISO string
of that wall-clock time was (a date axis has no timezone either way), in 13 digits instead of
a 21-character string the browser has to parse. Plotly (and Dash, which passes figures
through) also takes {"dtype": "f8", "bdata": <base64>} for any data array: 8 bytes a value,
no text to parse; Dash's Patch cannot extend those, so live charts keep plain lists.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pandas as pd


def wall_ms(ts: np.ndarray, tz: str) -> np.ndarray:
    """Epoch seconds as the local wall-clock time, in milliseconds, as plotly's date axis reads it."""
    seconds = np.asarray(ts, dtype=np.int64)
    local = pd.to_datetime(seconds, unit="s", utc=True).tz_convert(tz).tz_localize(None)
    return local.to_numpy().astype("datetime64[ms]").astype(np.int64).astype(np.float64)


def typed(values: Any, dtype: str = "f8") -> dict[str, str]:
    """A plotly typed-array spec of values (little-endian, as every browser's typed arrays are)."""
    array = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def untyped(spec: Any) -> Any:
    """The numbers of a typed-array spec (tests and tools reading a figure back)."""
    if isinstance(spec, dict) and "bdata" in spec:
        return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]).newbyteorder("<"))
    return spec
