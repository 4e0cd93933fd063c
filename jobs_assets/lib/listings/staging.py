"""Stage a window: its listings' payloads into the staging table with COPY."""

from __future__ import annotations

import json
from collections.abc import Mapping

import psycopg

from jobs_assets.lib.listings.copy_text import copy_field
from jobs_assets.lib.schema import STAGING_TABLE
from jobs_assets.lib.sources import WindowRecords

_BATCH_ROWS = 2_000


def stage_window(
    conn: psycopg.Connection, partition_key: str, windows: Mapping[str, WindowRecords]
) -> dict[str, int]:
    """Replace the window's staged rows with `windows` (per source) in one transaction."""
    counts = {}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(f"DELETE FROM {STAGING_TABLE} WHERE partition_key = %s", (partition_key,))
        with cur.copy(
            f"COPY {STAGING_TABLE} (source, partition_key, source_job_id, payload, retrieved_at)"
            " FROM STDIN"
        ) as copy:
            key = copy_field(partition_key)
            for source, window in windows.items():
                batch: list[str] = []
                for job_id, payload, retrieved_at in window.records:
                    batch.append(
                        f"{source}\t{key}\t{copy_field(job_id)}\t"
                        f"{copy_field(json.dumps(payload))}\t{retrieved_at.isoformat()}\n"
                    )
                    if len(batch) >= _BATCH_ROWS:
                        copy.write("".join(batch))
                        batch = []
                if batch:
                    copy.write("".join(batch))
                counts[source] = window.parsed
    return counts
