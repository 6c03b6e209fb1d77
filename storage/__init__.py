"""All SQL lives in this package: the connection owner, migrations and repositories."""

from __future__ import annotations

from pathlib import Path

from storage.closures import Closures, StoredClosure
from storage.db import Database
from storage.residents import Resident, Residents

__all__ = ["Closures", "Database", "Resident", "Residents", "Storage", "StoredClosure"]


class Storage:
    """The database and its repositories, opened and closed together."""

    def __init__(self, path: Path | str) -> None:
        self.db = Database(path)
        self.residents = Residents(self.db)
        self.closures = Closures(self.db)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()
