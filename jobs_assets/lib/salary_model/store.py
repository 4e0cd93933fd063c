"""The salary model in PostgreSQL: training rows in, model versions and estimates out.

Models are rows of `ml.salary_models` (skops bytes, never pickle), so the verified
backups carry them; estimates are rows of `ml.salary_estimates`, written with COPY.
Each estimate keeps an `input_hash` of the columns the model reads, so a refresh
predicts only listings that are new, changed, or estimated by an older model.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg.types.json import Jsonb

from jobs_assets.lib.listings.copy_text import _escape_array, copy_buffer
from jobs_assets.lib.listings.pipeline import prefetched
from jobs_assets.lib.salary_model.features import DESCRIPTION_CHARS
from jobs_assets.lib.salary_model.model import SalaryModel, TrainingOutcome

#: the listing columns the model reads, as the training and the prediction queries select them
_MODEL_COLUMNS = f"""
    l.source, l.source_job_id, l.title, l.company_name, l.category_normalised, l.category,
    l.seniority, l.job_type, l.region, l.countries, l.tags,
    left(l.description_text, {DESCRIPTION_CHARS}) AS description_text"""

#: listings with a stated (plausible: the normaliser nulls the rest) USD salary; the
#: library keeps one per duplicate cluster, its canonical member when that one has a salary
TRAINING_QUERY = f"""
SELECT {_MODEL_COLUMNS},
       l.salary_min_usd::float8 AS salary_min_usd, l.salary_max_usd::float8 AS salary_max_usd,
       l.first_seen_at, l.published_at, l.duplicate_cluster_id, l.is_canonical
FROM public.jobs_listings_data l
WHERE l.salary_min_usd IS NOT NULL OR l.salary_max_usd IS NOT NULL
"""

#: what the model reads from a listing, hashed (64 bits, PostgreSQL's own text hash; a
#: unit separator between fields and a record separator for NULL): a changed hash means
#: a changed estimate
INPUT_HASH = f"""hashtextextended(concat_ws(chr(31),
    coalesce(l.title, chr(30)), coalesce(l.company_name, chr(30)),
    coalesce(l.category_normalised, chr(30)), coalesce(l.category, chr(30)),
    coalesce(l.seniority, chr(30)), coalesce(l.job_type, chr(30)), l.region,
    array_to_string(l.countries, chr(29)), array_to_string(l.tags, chr(29)),
    coalesce(left(l.description_text, {DESCRIPTION_CHARS}), chr(30))), 0)"""

#: active listings without an estimate from `version` for their present content
STALE_QUERY = f"""
SELECT {_MODEL_COLUMNS}, {INPUT_HASH} AS input_hash
FROM public.jobs_listings_data l
LEFT JOIN ml.salary_estimates e USING (source, source_job_id)
WHERE l.status = 'active'
  AND (e.source IS NULL OR e.model_version <> %(version)s OR e.input_hash <> {INPUT_HASH})
"""

DELETE_INACTIVE = """
DELETE FROM ml.salary_estimates e
WHERE NOT EXISTS (
    SELECT 1 FROM public.jobs_listings_data l
    WHERE l.source = e.source AND l.source_job_id = e.source_job_id AND l.status = 'active'
)
"""

ESTIMATE_COLUMNS = (
    "source",
    "source_job_id",
    "model_version",
    "estimate",
    "low",
    "high",
    "predicted_at",
    "input_hash",
)
BATCH_ROWS = 10_000  # small enough that fetching the next overlaps predicting this one


def training_listings(conn: psycopg.Connection) -> pd.DataFrame:
    """Every listing with a stated USD salary, with what the library needs to pick one
    row per duplicate cluster and to split by time."""
    with conn.cursor() as cur:
        cur.execute(TRAINING_QUERY)
        names = [d.name for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=names)
    for column in ("first_seen_at", "published_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


@dataclass(frozen=True)
class StoredModel:
    version: int
    model: SalaryModel
    window_end: datetime
    metrics: dict


def current_model(conn: psycopg.Connection) -> StoredModel | None:
    row = conn.execute(
        "SELECT version, model_bytes, window_end, metrics FROM ml.salary_models "
        "WHERE status = 'current'"
    ).fetchone()
    if row is None:
        return None
    return StoredModel(row[0], SalaryModel.from_bytes(bytes(row[1])), row[2], row[3])


def save_outcome(conn: psycopg.Connection, outcome: TrainingOutcome) -> int | None:
    """Store a trained model (current or rejected); a promotion retires the previous
    current model in the same transaction. A skipped run stores nothing."""
    if outcome.model is None:
        return None
    with conn.transaction():
        if outcome.status == "current":
            conn.execute("UPDATE ml.salary_models SET status = 'retired' WHERE status = 'current'")
        row = conn.execute(
            """
            INSERT INTO ml.salary_models (status, reason, window_start, window_end, rows_total,
                rows_train, rows_test, metrics, features, library_versions, model_bytes)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING version
            """,
            (
                outcome.status,
                outcome.reason,
                outcome.window_start,
                outcome.window_end,
                outcome.rows,
                outcome.train_rows,
                outcome.test_rows,
                Jsonb(outcome.metrics),
                list(outcome.features),
                Jsonb(outcome.library_versions),
                outcome.model.to_bytes(),
            ),
        ).fetchone()
    return row[0]


@dataclass
class RefreshResult:
    predicted: int
    removed: int
    total: int
    seconds: float
    full: bool
    cpu_seconds: float = 0.0  # this process's CPU time: the machine may be shared

    @property
    def rows_per_second(self) -> float:
        return self.predicted / self.seconds if self.seconds > 0 else 0.0

    @property
    def rows_per_cpu_second(self) -> float:
        return self.predicted / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


def _estimate_lines(
    frame: pd.DataFrame, estimates: pd.DataFrame, version: int, predicted_at: str
) -> pa.Array:
    def text(values: pd.Series) -> pa.Array:
        return _escape_array(pa.array(values.astype(str).to_numpy(), type=pa.string()))

    def amount(values: pd.Series) -> pa.Array:
        return pa.array(np.round(values.to_numpy(dtype=float), 2)).cast(pa.string())

    return pc.binary_join_element_wise(
        text(frame["source"]),
        text(frame["source_job_id"]),
        str(version),
        amount(estimates["estimate"]),
        amount(estimates["low"]),
        amount(estimates["high"]),
        predicted_at,
        pa.array(frame["input_hash"].to_numpy(dtype=np.int64)).cast(pa.string()),
        "\t",
    )


def _batches(cur: psycopg.Cursor) -> Iterator[pd.DataFrame]:
    names = [d.name for d in cur.description]
    while rows := cur.fetchmany(BATCH_ROWS):
        yield pd.DataFrame(rows, columns=names)


def refresh_estimates(conn: psycopg.Connection, stored: StoredModel) -> RefreshResult:
    """Estimate every active listing that has no estimate from this model for its present
    content, and drop the estimates of listings no longer active; one transaction.

    After a promotion every estimate names an older version, so this is a full refresh.
    """
    started, cpu = time.perf_counter(), time.process_time()
    predicted_at = datetime.now(UTC).isoformat()
    predicted = 0
    with conn.transaction():
        removed = conn.execute(DELETE_INACTIVE).rowcount
        conn.execute(
            "CREATE TEMP TABLE salary_estimates_batch "
            "(LIKE ml.salary_estimates INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with conn.cursor(name="salary_stale") as cur:
            cur.execute(STALE_QUERY, {"version": stored.version})
            # the next batch is fetched while this one is predicted
            for frame in prefetched(_batches(cur)):
                estimates = stored.model.predict(frame)
                lines = _estimate_lines(frame, estimates, stored.version, predicted_at)
                with (
                    conn.cursor() as writer,
                    writer.copy(
                        "COPY salary_estimates_batch ({}) FROM STDIN".format(
                            ", ".join(ESTIMATE_COLUMNS)
                        )
                    ) as copy,
                ):
                    copy.write(copy_buffer(lines))
                predicted += len(frame)
        columns = ", ".join(ESTIMATE_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in ESTIMATE_COLUMNS[2:])
        conn.execute(
            f"INSERT INTO ml.salary_estimates ({columns}) "
            f"SELECT {columns} FROM salary_estimates_batch "
            f"ON CONFLICT (source, source_job_id) DO UPDATE SET {updates}"
        )
        total = conn.execute("SELECT count(*) FROM ml.salary_estimates").fetchone()[0]
    full = predicted > 0 and predicted == total
    return RefreshResult(
        predicted, removed, total, time.perf_counter() - started, full, time.process_time() - cpu
    )
