"""Synthetic staged listings built from the recorded API responses.

Every listing is a real recorded listing of its source with a new id, the salary
fields of one real listing and the location fields of another (the fixtures' value
distributions, shuffled), and a description of about 1,000 characters cut from the
real descriptions and made unique. Rows go straight into
`staging.staging_jobs_listings_data` with COPY, as `staged_listings` would leave them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from jobs_assets.lib.listings import STAGING_TABLE
from jobs_assets.lib.sources import SOURCES as SOURCE_REGISTRY
from jobs_assets.replay import FIXTURES

#: the synthetic mix: the first three sources of the registry, each a third of the rows
MIX = tuple(SOURCE_REGISTRY)[:3]
#: each source's fields (by the registry's field maps) that hold a listing's salary and
#: location, swapped between listings, and its description, cut from the real ones
SALARY_FIELDS = {
    s: SOURCE_REGISTRY[s].payload_keys(
        "salary_text", "salary_min", "salary_max", "salary_period", "salary_currency"
    )
    for s in MIX
}
LOCATION_FIELDS = {
    s: SOURCE_REGISTRY[s].payload_keys("location_text", "location_json") for s in MIX
}
DESCRIPTION_FIELD = {s: SOURCE_REGISTRY[s].payload_keys("description_html")[0] for s in MIX}
DESCRIPTION_CHARS = 1_000
BATCH_ROWS = 5_000


def window_key(start: datetime) -> str:
    return start.strftime("%Y-%m-%d-%H:%M")


def window_start(index: int, origin: datetime | None = None) -> datetime:
    """The start of the `index`-th 4-hour window after `origin` (benchmark windows)."""
    origin = origin or datetime(2020, 1, 1, tzinfo=UTC)
    return origin + timedelta(hours=4 * index)


@dataclass(frozen=True)
class Templates:
    listings: dict[str, list[dict]]
    salaries: dict[str, list[tuple]]
    locations: dict[str, list[tuple]]
    corpus: str  # every real description, concatenated

    @classmethod
    def from_fixtures(cls) -> Templates:
        listings: dict[str, list[dict]] = {s: [] for s in MIX}
        for path in sorted(FIXTURES.glob("*.json")):
            source = next((s for s in MIX if path.name.startswith(s)), None)
            if source is None:  # a source outside the mix
                continue
            body = json.loads(path.read_text())
            listings[source].extend(SOURCE_REGISTRY[source].records_in(body) or [])
        salaries = {
            s: [tuple(job.get(f) for f in SALARY_FIELDS[s]) for job in jobs]
            for s, jobs in listings.items()
        }
        locations = {
            s: [tuple(job.get(f) for f in LOCATION_FIELDS[s]) for job in jobs]
            for s, jobs in listings.items()
        }
        corpus = "".join(
            job.get(DESCRIPTION_FIELD[s]) or "" for s, jobs in listings.items() for job in jobs
        )
        return cls(listings, salaries, locations, corpus)


class ListingFactory:
    """Deterministic synthetic listings: the same seed and numbers give the same rows."""

    def __init__(self, seed: int = 7) -> None:
        self.templates = Templates.from_fixtures()
        self.random = random.Random(seed)

    def listing(self, number: int) -> tuple[str, str, dict]:
        """`(source, source_job_id, payload)` of listing `number` (ids are unique per number)."""
        rnd = self.random
        source = MIX[number % len(MIX)]
        t = self.templates
        payload = dict(rnd.choice(t.listings[source]))
        payload.update(zip(SALARY_FIELDS[source], rnd.choice(t.salaries[source]), strict=True))
        payload.update(zip(LOCATION_FIELDS[source], rnd.choice(t.locations[source]), strict=True))
        start = rnd.randrange(0, max(1, len(t.corpus) - DESCRIPTION_CHARS))
        payload[DESCRIPTION_FIELD[source]] = (
            t.corpus[start : start + DESCRIPTION_CHARS] + f"<p>Reference BENCH-{number:09d}.</p>"
        )
        # a new id of the template's kind: a number, or its text id (a URL) extended
        id_field = SOURCE_REGISTRY[source].id_field
        original = payload[id_field]
        job_id = (
            f"{original}-bench-{number}" if isinstance(original, str) else str(10_000_000 + number)
        )
        payload[id_field] = job_id if isinstance(original, str) else int(job_id)
        return source, job_id, payload


def _copy_text(value: str) -> str:
    """A value in COPY's text format (json.dumps output has no raw tabs or newlines)."""
    return value.replace("\\", "\\\\")


def staged_lines(
    factory: ListingFactory, numbers: range, partition_key: str, retrieved_at: datetime
) -> Iterator[bytes]:
    """COPY text lines of the listings numbered `numbers`, in batches."""
    stamp = retrieved_at.isoformat()
    batch: list[str] = []
    for number in numbers:
        source, job_id, payload = factory.listing(number)
        batch.append(
            f"{source}\t{partition_key}\t{_copy_text(job_id)}\t"
            f"{_copy_text(json.dumps(payload))}\t{stamp}\n"
        )
        if len(batch) >= BATCH_ROWS:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def stage_synthetic(
    conn: psycopg.Connection,
    windows: list[tuple[datetime, range]],
    factory: ListingFactory | None = None,
) -> int:
    """COPY synthetic listings into staging: one window per `(start, listing numbers)`."""
    factory = factory or ListingFactory()
    rows = 0
    with (
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(
            f"COPY {STAGING_TABLE} (source, partition_key, source_job_id, payload, retrieved_at)"
            " FROM STDIN"
        ) as copy,
    ):
        for start, numbers in windows:
            for block in staged_lines(factory, numbers, window_key(start), start):
                copy.write(block)
            rows += len(numbers)
    return rows
