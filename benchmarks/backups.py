"""B5, backup: `jobs_assets.lib.backup` dump and verify against a plain `pg_dump`.

The product's backup is `pg_dump -Fc` under an exported snapshot with exact row
counts taken in the same snapshot, a checksum and a manifest; verification restores
it into a scratch database and compares the counts. The plain dump is the same
`pg_dump -Fc` alone: what any backup of this database costs at least.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import psycopg

from benchmarks.harness import WORK_DIR
from jobs_assets.lib import backup


def _database_size(conninfo: str) -> tuple[int, dict[str, int]]:
    with psycopg.connect(conninfo) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        return size, backup.row_counts(conn)


def run(conninfo: str, partition_key: str) -> dict:
    folder = WORK_DIR / "backups"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tools = backup.find_pg_tools(conninfo)
    size, counts = _database_size(conninfo)

    plain_file = folder / "plain.dump"
    started = time.perf_counter()
    subprocess.run(
        [str(tools.pg_dump), "-Fc", "-f", str(plain_file), *(["-d", conninfo] if conninfo else [])],
        check=True,
        capture_output=True,
    )
    plain_s = time.perf_counter() - started
    plain_size = plain_file.stat().st_size
    plain_file.unlink()

    started = time.perf_counter()
    dumped = backup.dump(conninfo, folder, partition_key, tools)
    dump_s = time.perf_counter() - started
    started = time.perf_counter()
    verification = backup.verify(dumped, conninfo, tools)
    verify_s = time.perf_counter() - started
    if not verification.ok:
        raise RuntimeError(f"the benchmark backup did not verify: {verification.error}")
    dump_size = dumped.dump.stat().st_size
    return {
        "database_bytes": size,
        "row_counts": counts,
        "rows": sum(counts.values()),
        "pg_dump_version": tools.version,
        "plain_pg_dump_s": round(plain_s, 3),
        "plain_dump_bytes": plain_size,
        "dump_s": round(dump_s, 3),
        "verify_s": round(verify_s, 3),
        "dump_and_verify_s": round(dump_s + verify_s, 3),
        "dump_bytes": dump_size,
        "dump_ratio_to_plain": round(dump_s / plain_s, 2),
        "dump_and_verify_ratio_to_plain": round((dump_s + verify_s) / plain_s, 2),
    }
