"""The shared send pacer on PostgreSQL (``senders/telegram_limits.py``): Telegram counts
messages per bot, not per process, so every process reserves its slots in one table
(``rate_slots``, by the ``vestnik_reserve_slot`` function) on the server's clock."""

from __future__ import annotations

from storage.base import StorageUnavailable
from storage.postgres_pool import UNAVAILABLE, PostgresPool, describe
from storage.postgres_tx import rowcount


class PostgresPacing(PostgresPool):
    """Slots, pauses and the clean-up of idle per-chat rows."""

    async def reserve_slot(
        self, bucket: str, spacing: float, key: str | None, key_gap: float
    ) -> tuple[float, float]:
        """Reserve the next slot of ``bucket``: returns (slot, seconds to wait), the slot in
        the server's epoch seconds."""
        async with self._connection() as conn:
            try:
                row = await conn.fetchrow(
                    "SELECT s AS slot, s - extract(epoch FROM clock_timestamp())::float8 AS wait"
                    " FROM vestnik_reserve_slot($1, $2, $3, $4) AS s",
                    bucket,
                    spacing,
                    key,
                    key_gap,
                )
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
        return float(row["slot"]), float(row["wait"])

    async def pause_bucket(self, bucket: str, seconds: float) -> None:
        async with self._connection() as conn:
            try:
                await conn.execute(
                    "INSERT INTO rate_slots (bucket, paused_until)"
                    " VALUES ($1, extract(epoch FROM clock_timestamp())::float8 + $2)"
                    " ON CONFLICT (bucket) DO UPDATE SET paused_until ="
                    " GREATEST(rate_slots.paused_until, excluded.paused_until)",
                    bucket,
                    seconds,
                )
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc

    async def bucket_paused_for(self, bucket: str) -> float:
        async with self._connection() as conn:
            try:
                left = await conn.fetchval(
                    "SELECT paused_until - extract(epoch FROM clock_timestamp())::float8"
                    " FROM rate_slots WHERE bucket = $1",
                    bucket,
                )
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
        return max(0.0, float(left or 0.0))

    async def prune_slots(self, older_than: float = 3600.0) -> int:
        """Chat rows nobody used for an hour (the leader calls this now and then)."""
        async with self._connection() as conn:
            status = await conn.execute(
                "DELETE FROM rate_slots WHERE bucket LIKE 'chat:%'"
                " AND next_slot < extract(epoch FROM clock_timestamp())::float8 - $1",
                older_than,
            )
        return rowcount(status)
