"""Counter-based random numbers: a uniform in [0, 1) for each (key, stream, index).

A value depends only on its inputs, never on what was drawn before, so a time
range gives the same numbers in one call or in chunks, today or next year.
The mixer is SplitMix64's finaliser (Steele, Lea and Flood, 2014).
"""

from __future__ import annotations

import hashlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 2.0**-53


def key_of(*parts: object) -> int:
    """A stable 64-bit key for any tuple of seeds and names (not Python's salted hash())."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: every input bit affects every output bit."""
    with np.errstate(over="ignore"):  # wrapping uint64 arithmetic is the point
        x = (x ^ (x >> _S30)) * _M1
        x = (x ^ (x >> _S27)) * _M2
        return x ^ (x >> _S31)


def uniform(key: int, stream: str, index: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1), one per index, fixed by (key, stream, index)."""
    base = np.uint64(key_of(key, stream))
    idx = np.asarray(index, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = _mix(idx * _GOLDEN + base)
    return (mixed >> _S11).astype(np.float64) * _TO_UNIT


def uniform_between(key: int, stream: str, index: np.ndarray | int, low: float, high: float) -> np.ndarray:
    """Uniform floats in [low, high), one per index."""
    return low + (high - low) * uniform(key, stream, index)


def scalar(key: int, stream: str, low: float = 0.0, high: float = 1.0) -> float:
    """One fixed uniform in [low, high) for a per-node constant."""
    return float(uniform_between(key, stream, 0, low, high))


def triangular(key: int, stream: str, index: np.ndarray) -> np.ndarray:
    """Bounded bell-shaped noise in (-1, 1): the mean of two uniforms, centred."""
    return uniform(key, stream + ":a", index) + uniform(key, stream + ":b", index) - 1.0
