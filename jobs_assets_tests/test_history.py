"""Lifecycle, history and duplicate clusters window by window on a real PostgreSQL:
reactivation, backfill order, history idempotence, the Himalayas rule, overrides.

Windows are staged directly (payloads in each source's own format) and loaded with the
pipeline's own `upsert_window` and `maintain_window`, so any window start can be used.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from jobs_assets.lib.identity import quality as identity_quality
from jobs_assets.lib.identity.duplicates import REPOST_HORIZON, add_override
from jobs_assets.lib.identity.lifecycle import Evidence, evidence
from jobs_assets.lib.identity.window import WindowIdentity, maintain_window
from jobs_assets.lib.listings import upsert_window
from jobs_assets.lib.sources import SOURCES
from jobs_assets_tests.conftest import Database

T0 = datetime(2026, 11, 2, tzinfo=UTC)
RULES = {name: source.expiry for name, source in SOURCES.items()}
COMPLETE = Evidence(True, "complete live fetch")
INCOMPLETE = Evidence(False, "truncated: page limit")


def jobicy(job_id: int, title: str = "", company: str = "Acme", **extra: object) -> dict:
    return {
        "id": job_id,
        "jobTitle": title or f"Engineer {job_id}",
        "companyName": company,
        "url": f"https://jobicy.test/{job_id}",
        "jobGeo": "Anywhere",
        **extra,
    }


def himalayas(guid: str, expires: datetime | None = None) -> dict:
    return {
        "guid": guid,
        "title": f"Designer {guid}",
        "companyName": "Studio",
        "applicationLink": f"https://himalayas.test/{guid}",
        "expiryDate": int(expires.timestamp()) if expires else None,
    }


def key_of(start: datetime) -> str:
    return start.strftime("%Y-%m-%d-%H:%M")


@pytest.fixture
def conns(clean_db: Database) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        yield conn, read_conn


def load(
    conns: tuple[psycopg.Connection, psycopg.Connection],
    start: datetime,
    listings: dict[str, list[dict]],
    proof: dict[str, Evidence] | None = None,
    unseen_days: int = 30,
    max_share: float = 1.0,
    others: dict[str, Evidence] | None = None,
) -> WindowIdentity:
    """Stage the window's listings, upsert them, then lifecycle, clusters and history.

    The sudden-drop guard is off (`max_share` 1) but in its own tests: the others
    expire one listing of two. Other windows' fetches were complete but those in
    `others` (partition key -> evidence)."""
    conn, read_conn = conns
    key = upsert(conns, start, listings)
    proof = proof if proof is not None else {s: COMPLETE for s in listings}
    known = others or {}
    return maintain_window(
        conn,
        key,
        start,
        proof,
        RULES,
        unseen_days,
        max_share,
        evidence_for=lambda source, other: known.get(other, COMPLETE),
    )


def upsert(
    conns: tuple[psycopg.Connection, psycopg.Connection],
    start: datetime,
    listings: dict[str, list[dict]],
) -> str:
    """Stage the window's listings and upsert them (the first half of `load`); its key."""
    conn, read_conn = conns
    key = key_of(start)
    with conn.transaction():
        conn.execute(
            "DELETE FROM staging.staging_jobs_listings_data WHERE partition_key = %s", (key,)
        )
        for source, payloads in listings.items():
            id_field = SOURCES[source].id_field
            for payload in payloads:
                conn.execute(
                    "INSERT INTO staging.staging_jobs_listings_data VALUES (%s, %s, %s, %s, %s)",
                    (source, key, str(payload[id_field]), json.dumps(payload), start),
                )
    upsert_window(conn, read_conn, key, start)
    return key


def state(db: Database, source: str, job_id: str) -> tuple:
    return db.query(
        "SELECT status, expired_at, reactivated_count FROM public.jobs_listings_data "
        "WHERE source = %s AND source_job_id = %s",
        (source, job_id),
    )[0]


def versions(db: Database, source: str = "jobicy", job_id: str | None = None) -> list[tuple]:
    return db.query(
        "SELECT source_job_id, status, title, valid_from, valid_to "
        "FROM public.jobs_listings_history WHERE source = %s "
        "AND (%s::text IS NULL OR source_job_id = %s) ORDER BY source_job_id, valid_from",
        (source, job_id, job_id),
    )


def hours(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def test_a_listing_seen_again_after_expiry_is_reactivated(conns, clean_db: Database) -> None:
    load(conns, hours(0), {"jobicy": [jobicy(1), jobicy(2)]})
    gone = load(conns, hours(4), {"jobicy": [jobicy(1)]})
    assert gone.lifecycle.expired == {"jobicy": 1}
    assert state(clean_db, "jobicy", "2") == ("expired", hours(4), 0)

    back = load(conns, hours(8), {"jobicy": [jobicy(1), jobicy(2)]})

    assert back.lifecycle.reactivated == 1 and back.lifecycle.expired == {"jobicy": 0}
    assert state(clean_db, "jobicy", "2") == ("active", None, 1)
    assert [(s, f, t) for _, s, _, f, t in versions(clean_db, job_id="2")] == [
        ("active", hours(0), hours(4)),
        ("expired", hours(4), hours(8)),
        ("active", hours(8), None),
    ]
    again = load(conns, hours(8), {"jobicy": [jobicy(1), jobicy(2)]})  # a re-run
    assert again.lifecycle.reactivated == 0 and again.new_versions == 0
    assert state(clean_db, "jobicy", "2") == ("active", None, 1)


def test_a_backfill_of_an_older_window_never_moves_status_backwards(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": [jobicy(1), jobicy(2), jobicy(3)]})
    load(conns, hours(8), {"jobicy": [jobicy(1), jobicy(3)]})  # 2 expires
    assert state(clean_db, "jobicy", "2") == ("expired", hours(8), 0)

    # the window in between, loaded late: it has 2 (seen before its expiry) but not 3
    older = load(conns, hours(4), {"jobicy": [jobicy(1), jobicy(2)]})

    assert older.lifecycle.reactivated == 0 and older.lifecycle.expired == {"jobicy": 0}
    assert state(clean_db, "jobicy", "2") == ("expired", hours(8), 0)
    assert state(clean_db, "jobicy", "3") == ("active", None, 0)
    assert older.new_versions == 0


def test_history_adds_nothing_on_a_rerun_or_a_window_without_changes(
    conns, clean_db: Database
) -> None:
    first = load(conns, hours(0), {"jobicy": [jobicy(1), jobicy(2)]})
    assert first.new_versions == 2
    assert load(conns, hours(0), {"jobicy": [jobicy(1), jobicy(2)]}).new_versions == 0  # re-run
    same = load(conns, hours(4), {"jobicy": [jobicy(1), jobicy(2)]})  # only last_seen moves
    assert same.new_versions == 0
    assert len(versions(clean_db)) == 2

    changed = load(conns, hours(8), {"jobicy": [jobicy(1, "Senior engineer 1"), jobicy(2)]})

    assert changed.new_versions == 1
    assert [(t, f, to) for _, _, t, f, to in versions(clean_db, job_id="1")] == [
        ("Engineer 1", hours(0), hours(8)),
        ("Senior engineer 1", hours(8), None),
    ]
    assert (
        load(conns, hours(8), {"jobicy": [jobicy(1, "Senior engineer 1"), jobicy(2)]}).new_versions
        == 0
    )
    current = clean_db.query(
        "SELECT count(*) FROM public.jobs_listings_history WHERE valid_to IS NULL"
    )
    assert current == [(2,)]


def test_an_incomplete_fetch_expires_nothing_and_writes_no_version(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": [jobicy(1), jobicy(2)]})
    result = load(conns, hours(4), {"jobicy": [jobicy(1)]}, {"jobicy": INCOMPLETE})
    assert result.lifecycle.not_counted == {"jobicy": "truncated: page limit"}
    assert state(clean_db, "jobicy", "2") == ("active", None, 0)
    assert result.new_versions == 0


@pytest.mark.parametrize(
    ("manifest", "complete"),
    [
        ({"origin": "live", "complete": True}, True),
        ({"origin": "live", "complete": True, "truncated": True, "truncated_reason": "x"}, False),
        ({"origin": "live"}, False),  # written before the flag existed
        ({"origin": "inbox", "complete": True}, False),
        ({"origin": "replay", "complete": True}, True),  # `make demo`: the recorded feed
        ({"origin": "replay"}, False),
        (None, False),  # skipped or failed: nothing stored
    ],
)
def test_only_a_complete_fetched_manifest_counts_as_evidence(manifest, complete) -> None:
    assert evidence(manifest).complete is complete


def test_himalayas_expires_on_expires_at_or_after_unseen_days_not_on_absence(
    conns, clean_db: Database
) -> None:
    load(
        conns,
        hours(0),
        {"himalayas": [himalayas("a"), himalayas("b", expires=hours(10)), himalayas("c")]},
    )
    absent = load(conns, hours(4), {"himalayas": [himalayas("c")]}, unseen_days=2)
    assert absent.lifecycle.expired == {"himalayas": 0}  # absence alone proves nothing

    past_expiry = load(conns, hours(12), {"himalayas": [himalayas("c")]}, unseen_days=2)
    assert past_expiry.lifecycle.expired == {"himalayas": 1}
    assert state(clean_db, "himalayas", "b") == ("expired", hours(12), 0)
    assert state(clean_db, "himalayas", "a")[0] == "active"

    unseen = load(conns, hours(52), {"himalayas": [himalayas("c")]}, unseen_days=2)
    assert unseen.lifecycle.expired == {"himalayas": 1}
    assert state(clean_db, "himalayas", "a") == ("expired", hours(52), 0)
    assert state(clean_db, "himalayas", "c")[0] == "active"


def clusters(db: Database) -> dict[str, tuple]:
    rows = db.query(
        "SELECT source || ':' || source_job_id, duplicate_cluster_id, is_canonical "
        "FROM public.jobs_listings_data"
    )
    return {key: (cluster, canonical) for key, cluster, canonical in rows}


DESCRIPTION = (
    "We are hiring a data engineer to build pipelines in Python and SQL on PostgreSQL, "
    "own our warehouse, and work with analysts across the company on reporting."
)


def twin(job_id: int, company: str = "Acme") -> dict:
    return jobicy(job_id, "Senior Data Engineer", company, jobDescription=DESCRIPTION)


def test_duplicates_share_a_cluster_and_overrides_win_across_reruns(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": [twin(1), twin(9, company="Other Co")]})
    formed = load(conns, hours(4), {"jobicy": [twin(1), twin(2), twin(9, company="Other Co")]})
    assert formed.clusters_formed == 1
    assert clusters(clean_db) == {
        "jobicy:1": ("jobicy:1", True),
        "jobicy:2": ("jobicy:1", False),  # seen later: not canonical
        "jobicy:9": ("jobicy:9", True),  # another company is never merged
    }
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_current") == [(2,)]

    with clean_db.connect() as conn:
        add_override(conn, "jobicy:2", "jobicy:1", False, "different teams, checked by hand")
        add_override(conn, "jobicy:9", "jobicy:1", True, "same job, company renamed")
    for _ in range(2):  # the overrides win, and keep winning on a re-run
        load(conns, hours(4), {"jobicy": [twin(1), twin(2), twin(9, company="Other Co")]})
        found = clusters(clean_db)
        assert found["jobicy:2"] == ("jobicy:2", True)
        assert found["jobicy:9"][0] == found["jobicy:1"][0] == "jobicy:1"
    assert clean_db.query("SELECT note FROM public.jobs_duplicate_overrides ORDER BY 1") == [
        ("different teams, checked by hand",),
        ("same job, company renamed",),
    ]


def test_a_new_listing_is_written_as_its_own_cluster_and_only_those_joining_another_again(
    conns, clean_db: Database
) -> None:
    """The upsert writes each new listing as its own cluster's canonical member, which is
    what identity decides for most; identity then rewrites only the listings that join
    another cluster. (It used to write every new listing a second time: a new row version
    with an entry in every index, about a third of identity's cost, issue 25.)"""
    load(conns, hours(0), {"jobicy": [twin(1)]})
    window = {"jobicy": [twin(2), jobicy(3, "Product Designer"), jobicy(4, "Tax Advisor")]}
    key = upsert(conns, hours(4), window)
    assert clusters(clean_db) == {
        "jobicy:1": ("jobicy:1", True),
        **{f"jobicy:{n}": (f"jobicy:{n}", True) for n in (2, 3, 4)},
    }
    written = "SELECT source_job_id, ctid::text FROM public.jobs_listings_data ORDER BY 1"
    before = dict(clean_db.query(written))

    # not a complete fetch: the stored twin stays active (nothing about expiry here)
    done = maintain_window(conns[0], key, hours(4), {"jobicy": INCOMPLETE}, RULES, 30, 1.0)
    after = dict(clean_db.query(written))
    assert clusters(clean_db)["jobicy:2"] == ("jobicy:1", False)  # joined the stored twin
    assert clusters(clean_db)["jobicy:3"] == ("jobicy:3", True)
    assert [n for n in before if before[n] != after[n]] == ["2"]  # only the joiner rewritten
    assert done.as_metadata()["cluster_assignments_written"] == 1
    assert done.clusters_formed == 1


def test_new_listings_another_transaction_inserts_meanwhile_are_upserted_as_their_own_clusters(
    conns, clean_db: Database
) -> None:
    """The window's COPY of new listings meets one that another transaction inserted
    after the window looked (it waits for that transaction, then fails on the key): the
    chunk is upserted instead, and its new listings still stand alone until identity."""
    load(conns, hours(0), {"jobicy": [jobicy(1)]})
    window = {"jobicy": [jobicy(1), jobicy(5, "Tax Advisor"), jobicy(6, "Copywriter")]}
    with clean_db.connect() as other:
        # jobicy:5 inserted by another writer, not yet committed
        stored = other.execute("SELECT * FROM public.jobs_listings_data WHERE source_job_id = '1'")
        names = [d.name for d in stored.description]
        row = stored.fetchone()
        values = dict(zip(names, row, strict=True)) | {
            "source_job_id": "5",
            "duplicate_cluster_id": None,
            "is_canonical": None,
        }
        values.pop("search_vector")
        other.execute(
            f"INSERT INTO public.jobs_listings_data ({', '.join(values)}) "
            f"VALUES ({', '.join(['%s'] * len(values))})",
            list(values.values()),
        )
        worker = threading.Thread(target=upsert, args=(conns, hours(4), window))
        worker.start()
        waited = 0.0
        while not clean_db.query(  # the window's COPY waits for the other writer
            "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'transactionid' "
            "AND query LIKE 'COPY public.jobs_listings_data%%'"
        ):
            assert worker.is_alive() and waited < 30, "the COPY never met the other insert"
            time.sleep(0.05)
            waited += 0.05
        other.commit()
    worker.join(30)
    assert not worker.is_alive()
    found = clusters(clean_db)
    assert found["jobicy:6"] == ("jobicy:6", True)  # new, through the upsert's INSERT
    assert found["jobicy:5"] == (None, None)  # the other writer's row, updated, not re-made
    assert (
        clean_db.query(
            "SELECT last_partition_key FROM public.jobs_listings_data ORDER BY source_job_id"
        )
        == [(key_of(hours(4)),)] * 3
    )


def test_when_the_canonical_listing_expires_an_active_duplicate_speaks_for_the_cluster(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": [twin(1)]})
    load(conns, hours(4), {"jobicy": [twin(1), twin(2)]})
    load(conns, hours(8), {"jobicy": [twin(2)]})  # 1 expires
    assert state(clean_db, "jobicy", "1")[0] == "expired"
    assert clusters(clean_db) == {"jobicy:1": ("jobicy:1", False), "jobicy:2": ("jobicy:1", True)}
    current = "SELECT source_job_id FROM public.jobs_listings_current"
    assert clean_db.query(current) == [("2",)]
    load(conns, hours(10), {"jobicy": [twin(2)]})  # seen again while 1 is still expired
    assert clusters(clean_db)["jobicy:2"] == ("jobicy:1", True)

    load(conns, hours(12), {"jobicy": [twin(1), twin(2)]})  # 1 is back: canonical again
    assert clusters(clean_db) == {"jobicy:1": ("jobicy:1", True), "jobicy:2": ("jobicy:1", False)}
    assert clean_db.query(current) == [("1",)]


def test_a_repost_after_its_listing_expired_joins_that_job_within_the_horizon(
    conns, clean_db: Database
) -> None:
    """Two jobs' listings expire. One is posted again within `REPOST_HORIZON`: the re-post
    joins the expired listing's cluster, which keeps its name, and speaks for it. The
    other is posted again after the horizon: a new hiring round, a job of its own."""
    acme, other = twin(1), twin(11, company="Other Co")
    load(conns, hours(0), {"jobicy": [acme, other, jobicy(5)]})
    load(conns, hours(4), {"jobicy": [jobicy(5)]})  # 1 and 11 expire
    assert state(clean_db, "jobicy", "1")[0] == state(clean_db, "jobicy", "11")[0] == "expired"

    repost = load(conns, hours(8), {"jobicy": [jobicy(5), twin(2)]})
    assert repost.clusters_formed == 1
    assert clusters(clean_db)["jobicy:1"] == ("jobicy:1", False)
    assert clusters(clean_db)["jobicy:2"] == ("jobicy:1", True)
    current = "SELECT source_job_id FROM public.jobs_listings_current ORDER BY 1"
    assert clean_db.query(current) == [("2",), ("5",)]
    before = clusters(clean_db)
    assert load(conns, hours(8), {"jobicy": [jobicy(5), twin(2)]}).cluster_assignments == 0
    assert clusters(clean_db) == before  # a re-run changes nothing

    late = hours(4) + REPOST_HORIZON + timedelta(hours=4)
    load(conns, late, {"jobicy": [jobicy(5), twin(2), twin(12, company="Other Co")]})
    assert clusters(clean_db)["jobicy:12"] == ("jobicy:12", True)
    assert clusters(clean_db)["jobicy:11"] == ("jobicy:11", True)


def test_a_job_re_posted_again_and_again_is_one_plausible_cluster(
    conns, clean_db: Database
) -> None:
    """A job re-posted under a new id a week after each posting expired, twelve times:
    one cluster of twelve listings, one of them active, which the size check finds
    plausible (more than ten *active* listings of one job is what it flags)."""
    start = hours(0)
    for n in range(1, 13):
        load(conns, start, {"jobicy": [jobicy(100), twin(n)]})
        load(conns, start + timedelta(hours=4), {"jobicy": [jobicy(100)]})  # n expires
        start += timedelta(days=7)
    load(conns, start, {"jobicy": [jobicy(100), twin(13)]})
    key = key_of(start)
    members = {k: v for k, v in clusters(clean_db).items() if k != "jobicy:100"}
    assert set(members.values()) == {("jobicy:1", False), ("jobicy:1", True)}
    assert members["jobicy:13"] == ("jobicy:1", True) and len(members) == 13
    with clean_db.connect() as conn:
        assert not identity_quality.cluster_sizes(conn, key).violations["clusters_too_large"]

    load(conns, start, {"jobicy": [jobicy(100), *(twin(n) for n in range(1, 14))]})
    with clean_db.connect() as conn:  # all thirteen back at once: implausible
        assert identity_quality.cluster_sizes(conn, key).violations["clusters_too_large"] == 1


# --- A re-run of the newest window (issue 30) ------------------------------------------

FOUR = [jobicy(1), jobicy(2), jobicy(3), jobicy(4)]  # one of four gone: under the guard


def test_a_rerun_of_the_newest_window_with_the_listing_back_undoes_its_expiry(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": FOUR}, max_share=0.3)
    gone = load(conns, hours(4), {"jobicy": FOUR[:3]}, max_share=0.3)
    assert gone.lifecycle.expired == {"jobicy": 1}
    assert state(clean_db, "jobicy", "4") == ("expired", hours(4), 0)

    rerun = load(conns, hours(4), {"jobicy": FOUR}, max_share=0.3)  # the same window again

    assert rerun.lifecycle.undone == 1 and rerun.lifecycle.reactivated == 0
    assert rerun.lifecycle.expired == {"jobicy": 0}
    assert rerun.as_metadata()["listings_expiry_undone"] == 1
    assert state(clean_db, "jobicy", "4") == ("active", None, 0)
    # one story: listing 4 never left (the expiry version of the first answer is gone)
    assert [(s, f, t) for _, s, _, f, t in versions(clean_db, job_id="4")] == [
        ("active", hours(0), None)
    ]
    assert rerun.new_versions == 0
    assert clean_db.query(
        "SELECT count(*) FROM public.jobs_listings_current WHERE source_job_id = '4'"
    ) == [(1,)]


def test_a_rerun_of_the_newest_window_still_without_the_listing_keeps_it_expired(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": FOUR}, max_share=0.3)
    load(conns, hours(4), {"jobicy": FOUR[:3]}, max_share=0.3)
    before = versions(clean_db, job_id="4")

    rerun = load(conns, hours(4), {"jobicy": FOUR[:3]}, max_share=0.3)

    assert rerun.lifecycle.undone == 0 and rerun.lifecycle.expired == {"jobicy": 0}
    assert state(clean_db, "jobicy", "4") == ("expired", hours(4), 0)
    assert rerun.new_versions == 0 and versions(clean_db, job_id="4") == before
    assert [s for _, s, *_ in before] == ["active", "expired"]


def test_an_incomplete_rerun_of_the_newest_window_undoes_what_its_earlier_answer_expired(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": FOUR}, max_share=0.3)
    load(conns, hours(4), {"jobicy": FOUR[:3]}, max_share=0.3)  # 4 expires
    assert state(clean_db, "jobicy", "4")[0] == "expired"

    # the re-run's fetch is truncated: it replaces the answer that proved 4 gone
    rerun = load(conns, hours(4), {"jobicy": FOUR[:3]}, {"jobicy": INCOMPLETE}, max_share=0.3)

    assert rerun.lifecycle.undone == 1 and rerun.lifecycle.expired == {}
    assert state(clean_db, "jobicy", "4") == ("active", None, 0)
    assert [(s, f, t) for _, s, _, f, t in versions(clean_db, job_id="4")] == [
        ("active", hours(0), None)
    ]
    with clean_db.connect() as conn:  # the check of expiries without proof agrees
        proof = {"jobicy": INCOMPLETE}
        assert identity_quality.expired_on_incomplete_fetch(conn, hours(4), proof).passed


def test_a_backfill_of_an_older_window_after_an_expiry_changes_no_status(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": FOUR}, max_share=0.3)
    load(conns, hours(8), {"jobicy": FOUR[:3]}, max_share=0.3)  # 4 expires in W2
    before = versions(clean_db)

    backfill = load(conns, hours(4), {"jobicy": FOUR}, max_share=0.3)  # W1 had 4

    assert backfill.lifecycle.undone == 0 and backfill.lifecycle.reactivated == 0
    assert state(clean_db, "jobicy", "4") == ("expired", hours(8), 0)
    assert backfill.new_versions == 0 and versions(clean_db) == before


# --- The sudden-drop guard (issue 25) ---------------------------------------------------

TEN = [jobicy(n) for n in range(1, 11)]


def holds(db: Database) -> list[tuple]:
    return db.query(
        "SELECT source, partition_key, would_expire, active_listings, status, resolved_by "
        "FROM public.jobs_expiry_holds ORDER BY partition_key"
    )


def active(db: Database) -> int:
    return db.query("SELECT count(*) FROM public.jobs_listings_data WHERE status = 'active'")[0][0]


def test_a_drop_over_the_share_expires_nothing_until_a_later_complete_fetch_confirms_it(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)

    drop = load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)  # 4 of 10 gone: 40%

    assert drop.lifecycle.expired == {"jobicy": 0} and active(clean_db) == 10
    assert "would expire 4 of 10 active listings (40%" in drop.lifecycle.held["jobicy"]
    assert drop.as_metadata()["expiry_held"] == drop.lifecycle.held
    assert drop.new_versions == 0
    assert holds(clean_db) == [("jobicy", key_of(hours(4)), 4, 10, "held", None)]

    rerun = load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)  # not a later window
    assert rerun.lifecycle.expired == {"jobicy": 0} and "jobicy" in rerun.lifecycle.held
    assert [h[4] for h in holds(clean_db)] == ["held"]

    confirmed = load(conns, hours(8), {"jobicy": TEN[:6]}, max_share=0.3)

    assert confirmed.lifecycle.expired == {"jobicy": 4} and not confirmed.lifecycle.held
    assert key_of(hours(4)) in confirmed.lifecycle.confirmed["jobicy"]
    assert {state(clean_db, "jobicy", str(n)) for n in range(7, 11)} == {("expired", hours(8), 0)}
    assert active(clean_db) == 6
    assert holds(clean_db) == [("jobicy", key_of(hours(4)), 4, 10, "confirmed", key_of(hours(8)))]


def test_a_held_drop_that_comes_back_is_cleared_and_never_confirms_a_later_one(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)  # held

    back = load(conns, hours(8), {"jobicy": TEN}, max_share=0.3)
    assert back.lifecycle.expired == {"jobicy": 0} and not back.lifecycle.held
    assert holds(clean_db)[0][4:] == ("cleared", key_of(hours(8)))

    again = load(conns, hours(12), {"jobicy": TEN[:6]}, max_share=0.3)  # a new drop: held
    assert again.lifecycle.expired == {"jobicy": 0} and "jobicy" in again.lifecycle.held
    assert active(clean_db) == 10
    assert [h[4] for h in holds(clean_db)] == ["cleared", "held"]


def test_a_drop_within_the_share_expires_at_once_and_an_incomplete_fetch_holds_nothing(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    partial = load(conns, hours(4), {"jobicy": TEN[:2]}, {"jobicy": INCOMPLETE}, max_share=0.3)
    assert partial.lifecycle.expired == {} and not partial.lifecycle.held

    small = load(conns, hours(8), {"jobicy": TEN[:7]}, max_share=0.3)  # 3 of 10: 30%, not more

    assert small.lifecycle.expired == {"jobicy": 3} and not small.lifecycle.held
    assert holds(clean_db) == []


def test_an_incomplete_rerun_of_a_held_window_clears_its_hold(conns, clean_db: Database) -> None:
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)  # held
    load(conns, hours(4), {"jobicy": TEN[:6]}, {"jobicy": INCOMPLETE}, max_share=0.3)
    assert holds(clean_db)[0][4:] == ("cleared", key_of(hours(4)))

    later = load(conns, hours(8), {"jobicy": TEN[:6]}, max_share=0.3)  # nothing to confirm

    assert later.lifecycle.expired == {"jobicy": 0} and "jobicy" in later.lifecycle.held
    assert active(clean_db) == 10


def test_unchanged_listings_are_not_matched_again(conns, clean_db: Database) -> None:
    """A window that brings the same listings again does no identity work for them
    (same `row_hash`), and the run's metadata says what the matcher did."""
    first = load(conns, hours(0), {"jobicy": [twin(1), twin(2), jobicy(3)]})
    meta = first.as_metadata()
    assert meta["identity_unchanged_skipped"] == 0
    assert meta["identity_largest_block"] == 3  # twin(1), twin(2) and 3 are all Acme's
    assert meta["identity_candidate_pairs"] >= 1
    before = clusters(clean_db)
    again = load(conns, hours(4), {"jobicy": [twin(1), twin(2), jobicy(3, title="Chef")]})
    meta = again.as_metadata()
    assert meta["identity_unchanged_skipped"] == 2  # the twins; 3 changed its title
    assert meta["identity_largest_block"] == 3  # 3 against the two stored twins
    assert clusters(clean_db) == before


def test_the_guard_measures_a_drop_against_the_listings_active_before_the_window(
    conns, clean_db: Database
) -> None:
    """Listings first seen in the window do not dilute the drop: 10 old gone and 40 new
    is all of the source's listings gone, not a fifth."""
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)

    turnover = load(
        conns, hours(4), {"jobicy": [jobicy(n) for n in range(100, 140)]}, max_share=0.3
    )

    assert turnover.lifecycle.expired == {"jobicy": 0}
    assert "would expire 10 of 10 active listings (100%" in turnover.lifecycle.held["jobicy"]
    assert holds(clean_db) == [("jobicy", key_of(hours(4)), 10, 10, "held", None)]

    partly = load(
        conns, hours(8), {"jobicy": TEN[:6] + [jobicy(n) for n in range(200, 204)]}, max_share=0.3
    )
    # of the 50 active before it, 7-10 are still gone (confirmed: they expire) and the 40
    # first seen at 4:00 are a drop of its own (held); 1-6 came back
    assert partly.lifecycle.expired == {"jobicy": 4}
    assert "would expire 40 more of 50 active listings" in partly.lifecycle.held["jobicy"]


def test_a_later_window_confirms_only_what_the_held_window_lacked_too(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)  # 7-10 gone: held

    # 7-10 back, 1-5 gone: nothing the held window lacked is lacking again
    other = load(conns, hours(8), {"jobicy": TEN[5:]}, max_share=0.3)

    assert other.lifecycle.expired == {"jobicy": 0} and active(clean_db) == 10
    assert "would expire 5 of 10" in other.lifecycle.held["jobicy"]
    assert [h[4] for h in holds(clean_db)] == ["cleared", "held"]

    # 6 only: 1-5, lacking at 8:00, still are (confirmed: they expire); 7-10 are a drop of
    # this window's own, 4 of 10, held in turn
    more = load(conns, hours(12), {"jobicy": TEN[5:6]}, max_share=0.3)
    assert more.lifecycle.expired == {"jobicy": 5}
    assert {state(clean_db, "jobicy", str(n))[0] for n in range(1, 6)} == {"expired"}
    assert "would expire 4 more of 10 active listings" in more.lifecycle.held["jobicy"]
    assert active(clean_db) == 5


def test_a_confirmed_drop_and_a_small_drop_of_its_own_expire_together(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)  # 7-10 gone: held

    later = load(conns, hours(8), {"jobicy": TEN[:3]}, max_share=0.3)  # 4-6 gone too: 30%

    assert later.lifecycle.expired == {"jobicy": 7} and not later.lifecycle.held
    assert key_of(hours(4)) in later.lifecycle.confirmed["jobicy"]
    assert {state(clean_db, "jobicy", str(n))[:2] for n in range(4, 11)} == {("expired", hours(8))}
    assert holds(clean_db)[0][4:] == ("confirmed", key_of(hours(8)))


def test_a_backfill_never_reactivates_a_listing_the_newest_complete_answer_lacks(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": FOUR})
    load(conns, hours(4), {"jobicy": FOUR[:3]})  # 4 expires
    load(conns, hours(12), {"jobicy": FOUR[:3]})  # the newest answer still lacks it
    before = versions(clean_db, job_id="4")

    backfill = load(conns, hours(8), {"jobicy": FOUR})  # an older window that had it

    assert backfill.lifecycle.reactivated == 0
    assert state(clean_db, "jobicy", "4") == ("expired", hours(4), 0)
    assert versions(clean_db, job_id="4") == before


def test_listings_that_arrived_but_were_rejected_are_not_expired(conns, clean_db: Database) -> None:
    load(conns, hours(0), {"jobicy": FOUR})
    proof = {"jobicy": Evidence(True, "complete live fetch", frozenset({"3"}))}

    later = load(conns, hours(4), {"jobicy": FOUR[:2]}, proof)  # 3 came, rejected; 4 did not

    assert later.lifecycle.expired == {"jobicy": 1}
    assert state(clean_db, "jobicy", "3")[0] == "active"
    assert state(clean_db, "jobicy", "4")[0] == "expired"
    manifest = {"origin": "live", "complete": True, "parse": {"rejected_ids": ["3", "7"]}}
    assert evidence(manifest).arrived_unloaded == {"3", "7"}


# --- A re-run replaces its window's earlier answer, whatever that answer did ----------


def test_a_rerun_of_the_newest_window_expires_what_its_earlier_answer_saw_and_this_lacks(
    conns, clean_db: Database
) -> None:
    """Status follows the newest complete evidence in this direction too: a listing the
    first answer of W4 held and its complete re-run lacks is gone."""
    load(conns, hours(0), {"jobicy": FOUR}, max_share=0.3)
    load(conns, hours(4), {"jobicy": FOUR}, max_share=0.3)

    rerun = load(conns, hours(4), {"jobicy": FOUR[:3]}, max_share=0.3)

    assert rerun.lifecycle.expired == {"jobicy": 1} and rerun.lifecycle.undone == 0
    assert state(clean_db, "jobicy", "4") == ("expired", hours(4), 0)
    assert [s for _, s, *_ in versions(clean_db, job_id="4")] == ["active", "expired"]


def test_a_rerun_cannot_step_past_the_guard_in_small_drops(conns, clean_db: Database) -> None:
    """W4's first answer expires 2 of 10 (within the share); its re-run lacks 4 of the 10:
    the window's answer is judged whole (40%), so it is held, and the first answer's
    expiries are undone."""
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    first = load(conns, hours(4), {"jobicy": TEN[:8]}, max_share=0.3)
    assert first.lifecycle.expired == {"jobicy": 2}

    rerun = load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)

    assert rerun.lifecycle.expired == {"jobicy": 0} and rerun.lifecycle.undone == 2
    assert "would expire 4 of 10 active listings" in rerun.lifecycle.held["jobicy"]
    assert active(clean_db) == 10
    assert [s for _, s, *_ in versions(clean_db, job_id="9")] == ["active"]  # one story


def test_a_rerun_of_a_held_window_with_a_bigger_drop_is_confirmed_whole_later(
    conns, clean_db: Database
) -> None:
    """The held window's re-run lacks 3-10 (its first answer lacked 7-10): the hold is
    of what the latest answer lacks, and a later complete fetch lacking them confirms
    all eight."""
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)
    rerun = load(conns, hours(4), {"jobicy": TEN[:2]}, max_share=0.3)
    assert [h[2] for h in holds(clean_db)] == [8]

    later = load(conns, hours(8), {"jobicy": TEN[:2]}, max_share=0.3)

    assert rerun.lifecycle.expired == {"jobicy": 0}
    assert later.lifecycle.expired == {"jobicy": 8} and not later.lifecycle.held
    assert [h[4:] for h in holds(clean_db)] == [("confirmed", key_of(hours(8)))]


def test_a_rerun_of_the_confirming_window_reopens_the_hold_it_confirmed(
    conns, clean_db: Database
) -> None:
    """W8 confirmed W4's held drop. An incomplete re-run of W8 undoes the confirmation's
    expiries and the hold is open again, so the next complete fetch confirms it; a
    complete re-run with everything back leaves the hold cleared, not confirmed."""
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    load(conns, hours(4), {"jobicy": TEN[:6]}, max_share=0.3)  # held
    assert load(conns, hours(8), {"jobicy": TEN[:6]}, max_share=0.3).lifecycle.expired == {
        "jobicy": 4
    }

    unproven = load(conns, hours(8), {"jobicy": TEN[:6]}, {"jobicy": INCOMPLETE}, max_share=0.3)

    assert unproven.lifecycle.undone == 4 and active(clean_db) == 10
    assert [h[4:] for h in holds(clean_db)] == [("held", None)]
    next_window = load(conns, hours(12), {"jobicy": TEN[:6]}, max_share=0.3)
    assert next_window.lifecycle.expired == {"jobicy": 4}
    assert [h[4:] for h in holds(clean_db)] == [("confirmed", key_of(hours(12)))]

    back = load(conns, hours(12), {"jobicy": TEN}, max_share=0.3)  # everything came back

    assert back.lifecycle.undone == 4 and active(clean_db) == 10
    assert [h[4] for h in holds(clean_db)] == ["cleared"]


def test_a_rerun_where_the_listing_arrives_but_is_rejected_undoes_its_expiry(
    conns, clean_db: Database
) -> None:
    """A listing that arrived, though rejected at parse time, is still listed: the
    re-run's answer holds it, so the earlier answer's expiry is undone."""
    load(conns, hours(0), {"jobicy": FOUR})
    load(conns, hours(4), {"jobicy": FOUR[:3]})
    proof = {"jobicy": Evidence(True, "complete live fetch", frozenset({"4"}))}

    rerun = load(conns, hours(4), {"jobicy": FOUR[:3]}, proof)

    assert rerun.lifecycle.undone == 1 and state(clean_db, "jobicy", "4") == ("active", None, 0)


def test_a_rerun_that_sent_nothing_undoes_what_the_earlier_answer_expired(
    conns, clean_db: Database
) -> None:
    """The re-run's answer for the source has no listing at all (Jobicy's "no jobs" 404,
    recorded as a short answer): it proves nothing, and it replaced the answer that
    did, so the expiry is undone and the check of expiries without proof agrees."""
    load(conns, hours(0), {"jobicy": FOUR, "himalayas": [himalayas("h1")]})
    load(conns, hours(4), {"jobicy": FOUR[:3], "himalayas": [himalayas("h1")]})

    rerun = load(conns, hours(4), {"jobicy": [], "himalayas": [himalayas("h1")]},
                 {"jobicy": INCOMPLETE, "himalayas": COMPLETE})  # fmt: skip

    assert rerun.lifecycle.undone == 1 and state(clean_db, "jobicy", "4")[0] == "active"
    with clean_db.connect() as conn:
        proof = {"jobicy": INCOMPLETE, "himalayas": COMPLETE}
        assert identity_quality.expired_on_incomplete_fetch(conn, hours(4), proof).passed


# --- A backfill's listings that later answers lacked ---------------------------------------


def test_a_backfill_s_listing_expires_at_the_first_later_complete_answer_that_lacked_it(
    conns, clean_db: Database
) -> None:
    load(conns, hours(8), {"jobicy": [jobicy(1)]})
    load(conns, hours(12), {"jobicy": [jobicy(1)]})
    incomplete_at_8 = {key_of(hours(8)): INCOMPLETE}

    older = load(conns, hours(4), {"jobicy": [jobicy(1), jobicy(2)]}, others=incomplete_at_8)

    # hours(8) proves nothing: the first complete answer without 2 is hours(12)
    assert older.lifecycle.expired_later == [("jobicy", "2", hours(12))]
    assert older.as_metadata()["listings_expired_by_later_windows"] == 1
    assert state(clean_db, "jobicy", "2") == ("expired", hours(12), 0)
    assert state(clean_db, "jobicy", "1") == ("active", None, 0)
    assert [(s, f, t) for _, s, _, f, t in versions(clean_db, job_id="2")] == [
        ("active", hours(4), hours(12)),
        ("expired", hours(12), None),
    ]
    again = load(conns, hours(4), {"jobicy": [jobicy(1), jobicy(2)]}, others=incomplete_at_8)
    assert again.lifecycle.expired_later == [] and again.new_versions == 0

    seen = load(conns, hours(16), {"jobicy": [jobicy(1), jobicy(2)]})  # back in the newest
    assert seen.lifecycle.reactivated == 1
    assert state(clean_db, "jobicy", "2") == ("active", None, 1)


def test_a_backfill_s_himalayas_listing_expires_where_its_rule_holds_not_on_absence(
    conns, clean_db: Database
) -> None:
    load(conns, hours(8), {"himalayas": [himalayas("c")]}, unseen_days=2)
    load(conns, hours(24), {"himalayas": [himalayas("c")]}, unseen_days=2)
    load(conns, hours(60), {"himalayas": [himalayas("c")]}, unseen_days=2)
    brought = [himalayas("a"), himalayas("b", expires=hours(10)), himalayas("c")]

    older = load(conns, hours(4), {"himalayas": brought}, unseen_days=2)

    # b's expiry date passed by hours(24); a was unseen for two days by hours(60)
    assert older.lifecycle.expired_later == [
        ("himalayas", "b", hours(24)),
        ("himalayas", "a", hours(60)),
    ]
    assert state(clean_db, "himalayas", "c")[0] == "active"


def test_a_backfill_s_listing_waits_while_a_later_drop_is_held_then_its_confirmation(
    conns, clean_db: Database
) -> None:
    load(conns, hours(0), {"jobicy": TEN}, max_share=0.3)
    load(conns, hours(8), {"jobicy": TEN[:3]}, max_share=0.3)  # 7 of 10: held
    assert [h[4] for h in holds(clean_db)] == ["held"]

    older = load(conns, hours(4), {"jobicy": [*TEN, jobicy(11)]}, max_share=0.3)

    # the held window expired nothing on its answer: no proof yet, 11 stays open
    assert older.lifecycle.expired_later == [] and active(clean_db) == 11
    confirmed = load(conns, hours(12), {"jobicy": TEN[:3]}, max_share=0.3)
    assert confirmed.lifecycle.expired == {"jobicy": 8}  # the held drop and 11 with it
    assert state(clean_db, "jobicy", "11") == ("expired", hours(12), 0)
