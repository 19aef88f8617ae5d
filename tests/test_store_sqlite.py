"""SQLiteStore: the shared contract, plus durability, concurrency and locking behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from enertrack.store.sqlite import SQLiteStore
from tests.store_contract import StoreContract


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A fresh, empty store in a temporary file."""
    opened = SQLiteStore(tmp_path / "ts.sqlite3")
    yield opened
    opened.close()


class TestSQLiteContract(StoreContract):
    """Everything every store does."""
