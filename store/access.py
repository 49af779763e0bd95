"""Need-to-know: conflicts of interest staff declare on a complaint (the complaint is then closed to them)."""

from __future__ import annotations

from store.complaints import Executor


class ConflictRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def declare(self, *, reference: str, staff_id: str) -> bool:
        """Record the conflict; False when it was already recorded."""
        result = await self._db.execute(
            "INSERT INTO staff_conflicts (reference, staff_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            reference,
            staff_id,
        )
        return result.endswith(" 1")

    async def declared(self, *, reference: str, staff_id: str) -> bool:
        found = await self._db.fetchval(
            "SELECT 1 FROM staff_conflicts WHERE reference = $1 AND staff_id = $2", reference, staff_id
        )
        return found is not None


async def delete_conflicts(db: Executor, reference: str) -> int:
    """Remove a complaint's declared conflicts (the retention purge, before the complaint row goes)."""
    result = await db.execute("DELETE FROM staff_conflicts WHERE reference = $1", reference)
    return int(result.split()[-1])
