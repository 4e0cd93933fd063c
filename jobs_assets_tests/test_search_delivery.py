"""Saved searches told about new jobs after each window (lib/searches, defs/searches).

Across the real layers: listings loaded by the ingestion assets from the recorded
responses (a local replay server), searches made with the store, `saved_search_matches`
and the sensors run through Dagster, a real HTTP server receiving the webhooks and a
real SMTP server (aiosmtpd) receiving the e-mails, on a real PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from jobs_assets.api.feed import entry_id
from jobs_assets.api.filters import SavedQuery
from jobs_assets.api.searches import feed_listings, job_key
from jobs_assets.defs.searches.assets import saved_search_matches
from jobs_assets.defs.searches.resources import SearchDeliveryResource
from jobs_assets.defs.searches.sensors import saved_search_sensor, search_delivery_sensor
from jobs_assets.lib.listings import queries, upsert_window
from jobs_assets.lib.ops.targets import TargetPolicy, UnsafeTarget, check_target, is_public
from jobs_assets.lib.ops.webhook import DeliveryError, post_webhook
from jobs_assets.lib.redact import redact
from jobs_assets.lib.searches import store
from jobs_assets.lib.searches.deliver import BACKFILL_GRACE, idempotency_key, plan_window
from jobs_assets.lib.searches.match import QueryError, filters_for
from jobs_assets.lib.searches.send import Mailer, SendPolicy, is_loopback, send_due
from jobs_assets.lib.sources import SOURCES
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.replay import FIXTURES
from jobs_assets.testing import ingestion_assets, load_recorded_windows
from jobs_assets_tests.conftest import Database, latest_windows
from jobs_assets_tests.test_history import himalayas, jobicy
from jobs_assets_tests.test_history import load as load_window


def windows() -> list[str]:
    """The newest three window keys, read when a test runs (a suite that crosses a
    window's boundary would otherwise ask for a window no longer fetched live)."""
    return latest_windows(3)


#: a token in the webhook's query string: it must never reach the table or a log
HOOK_SECRET = "hook-secret-7f3a"
MAIL_PASSWORD = "mail-secret-91c2"
#: the recorded Jobicy listing the searches look for, and a copy of it on Remotive
JOBICY_ID = "117433"
QUERY = {"q": '"risk analytics"'}


# --- the receivers ------------------------------------------------------------------


#: what a receiver may be scripted to do: answer a status, or write the answer itself
#: (given the request's handler) and return its status (0: no complete answer)
Reply = int | Callable[[BaseHTTPRequestHandler], int]


class WebhookReceiver:
    """A local HTTP server that keeps every POST; `replies` scripts the next answers."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.replies: list[Reply] = []
        self.delay = 0.0  # seconds before answering
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = receiver.replies.pop(0) if receiver.replies else 200
                post = {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                receiver.posts.append(post)
                if callable(reply):
                    post["status"] = 0  # until the answer is complete
                    post["status"] = reply(self)
                    return
                status = post["status"] = reply
                time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "http://10.0.0.1/elsewhere")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (the timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}?token={HOOK_SECRET}"

    @property
    def delivered(self) -> list[dict]:
        return [p for p in self.posts if 200 <= p["status"] < 300]


class MailInbox:
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's)
        self.messages.append(envelope)
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == MAIL_PASSWORD.encode()
    return AuthResult(success=ok)


def trickling(head: bytes, seconds: float = 6.0) -> Reply:
    """An answer that starts (`head`) and then comes a byte every half second for
    `seconds`: each read is far inside any timeout, the whole never arrives in time."""

    def answer(handler: BaseHTTPRequestHandler) -> int:
        handler.close_connection = True
        ends = time.monotonic() + seconds
        try:
            handler.wfile.write(head)
            while time.monotonic() < ends:
                handler.wfile.write(b"x")
                time.sleep(0.5)
        except OSError:
            pass  # the sender hung up: what the tests want of it
        return 0

    return answer


#: the status line, then headers that never end
SLOW_HEADERS = b"HTTP/1.1 503 Busy\r\nX-Slow: "
#: an error answer whose body never ends
SLOW_BODY = b"HTTP/1.1 500 Err\r\nContent-Length: 1000\r\n\r\n"


@contextlib.contextmanager
def receiving() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def mailbox() -> Iterator[tuple[MailInbox, str]]:
    inbox = MailInbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, f"smtp://jobs:{MAIL_PASSWORD}@127.0.0.1:{port}"
    finally:
        controller.stop()


# --- the pipeline -------------------------------------------------------------------


def delivery(smtp_url: str | None = None, allow_private: str = "on") -> SearchDeliveryResource:
    return SearchDeliveryResource(
        smtp_url=smtp_url,
        mail_from="alerts@jobs.example",
        allow_http="on",
        allow_private=allow_private,
        timeout_seconds=3.0,
    )


def load(db: Database, data_dir: Path, key: str, fixtures: Path = FIXTURES) -> None:
    load_recorded_windows(db.resource(), data_dir, [key], fixtures=fixtures)


def match_window(db: Database, key: str, resource: SearchDeliveryResource) -> dg.MaterializeResult:
    result = dg.materialize(
        [saved_search_matches],
        partition_key=key,
        resources={"postgres": db.resource(), "search_delivery": resource},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return result


def run_messages(result: dg.ExecuteInJobResult) -> str:
    return "\n".join(str(e.message) for e in result.all_events)


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What this process logged (the test SMTP server's own log, `mail.log`, aside)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))


def deliver_tick(db: Database, resource: SearchDeliveryResource) -> str:
    """One tick of `search_delivery_sensor`, as a freshly started daemon would run it."""
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"postgres": db.resource(), "search_delivery": resource},
    )
    return search_delivery_sensor(context).skip_message


def deliveries(db: Database) -> list[tuple]:
    return db.query(
        "SELECT search_id, window_key, channel, status, attempts, listing_count, last_error, "
        "idempotency_key FROM public.jobs_search_deliveries ORDER BY window_key, channel, part"
    )


def expected_keys(db: Database, query: dict) -> set[tuple[str, str]]:
    """What GET /listings shows for the query (one listing per duplicate cluster)."""
    filters = queries.ListingFilters(**filters_for(query).__dict__ | {"include_duplicates": False})
    with db.connect() as conn:
        items, _ = queries.search_listings(conn, filters, "newest", queries.Keyset(None), 100)
    return {(i["source"], i["source_job_id"]) for i in items}


def listed(post: dict) -> set[tuple[str, str]]:
    return {(job["source"], job["source_job_id"]) for job in post["json"]["listings"]}


def with_remotive_twin(folder: Path) -> Path:
    """The shipped recordings, where Remotive also lists the Jobicy job `JOBICY_ID` (same
    title, company, place and text, under Remotive's own id and URL): the same job on a
    second board."""
    shutil.copytree(FIXTURES, folder)
    jobicy = json.loads((FIXTURES / "jobicy.json").read_text())
    job = next(j for j in jobicy["jobs"] if str(j["id"]) == JOBICY_ID)
    remotive = json.loads((FIXTURES / "remotive.json").read_text())
    remotive["jobs"].append(
        {
            "id": 9117433,
            "url": "https://remotive.com/remote-jobs/software-dev/senior-risk-analytics-9117433",
            "title": job["jobTitle"],
            "company_name": job["companyName"],
            "company_logo": job["companyLogo"],
            "category": "Software Development",
            "tags": ["sql", "python"],
            "job_type": "full_time",
            "publication_date": job["pubDate"].replace(" ", "T"),
            "candidate_required_location": job["jobGeo"],
            "salary": "$113k - $155k",
            "description": job["jobDescription"],
        }
    )
    if "job-count" in remotive:
        remotive["job-count"] = len(remotive["jobs"])
    (folder / "remotive.json").write_text(json.dumps(remotive))
    return folder


# --- the tests ----------------------------------------------------------------------


def test_a_new_matching_listing_is_posted_and_mailed_once_whatever_reruns(
    clean_db, data_dir, webhook, mailbox, caplog
):
    caplog.set_level(logging.DEBUG)
    inbox, smtp_url = mailbox
    resource = delivery(smtp_url)
    key = windows()[-1]
    with clean_db.connect() as conn:
        search = store.create_search(
            conn, QUERY, {"webhook_url": webhook.url(), "email": "reader@example.org"}
        ).search
        quiet = store.create_search(
            conn, {"q": "zyzzogeton"}, {"webhook_url": webhook.url("/quiet")}
        ).search
    load(clean_db, data_dir, key)
    result = match_window(clean_db, key, resource)

    expected = expected_keys(clean_db, QUERY)
    assert ("jobicy", JOBICY_ID) in expected
    assert [p["path"] for p in webhook.posts] == ["/hook?token=" + HOOK_SECRET]
    (post,) = webhook.posts
    assert post["headers"]["Idempotency-Key"] == idempotency_key(search.search_id, key, "webhook")
    assert post["json"]["search_id"] == search.search_id and post["json"]["window"] == key
    assert listed(post) == expected
    job = next(j for j in post["json"]["listings"] if j["source_job_id"] == JOBICY_ID)
    assert job["title"] == "Senior Risk Analytics Engineer" and job["company"] == "Pipe"
    assert job["url"].startswith("https://jobicy.com/jobs/117433")
    assert job["salary"]["max_usd_annual"] == 155000 and job["place"]

    (mail,) = inbox.messages
    assert mail.rcpt_tos == ["reader@example.org"]
    parsed = message_from_bytes(mail.original_content)
    assert parsed["From"] == "alerts@jobs.example"
    assert (
        parsed["Message-ID"] == f"<{idempotency_key(search.search_id, key, 'email')}@jobs-assets>"
    )
    text = parsed.get_payload(decode=True).decode()
    assert "Senior Risk Analytics Engineer at Pipe" in text and job["url"] in text

    rows = deliveries(clean_db)
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [
        ("email", "sent", 1, len(expected)),
        ("webhook", "sent", 1, len(expected)),
    ]
    assert all(r[0] == search.search_id for r in rows)  # the search with no match: nothing
    announced = clean_db.query(
        "SELECT source, source_job_id FROM public.jobs_search_announced WHERE search_id = %s",
        (search.search_id,),
    )
    assert set(announced) == expected
    assert quiet.search_id not in {r[0] for r in rows}

    # the window loaded again and matched again: nothing new is written or sent
    load(clean_db, data_dir, key)
    again = match_window(clean_db, key, resource)
    assert len(webhook.posts) == 1 and len(inbox.messages) == 1
    assert again.asset_materializations_for_node("saved_search_matches")[0].metadata[
        "deliveries_written"
    ] == dg.IntMetadataValue(0)
    # a daemon that starts afresh (no cursor, a new process' state) sends nothing either
    assert deliver_tick(clean_db, resource) == "0 sent, 0 to retry, 0 given up"
    assert len(webhook.posts) == 1 and len(inbox.messages) == 1
    assert deliveries(clean_db) == rows

    logged = ours(caplog) + run_messages(result) + run_messages(again)
    assert "2 searches, 1 matched" in logged
    assert HOOK_SECRET not in logged and MAIL_PASSWORD not in logged
    assert "reader@example.org" not in logged


def test_the_sensor_requests_one_run_per_load_of_the_window(clean_db, resources):
    instance = dg.DagsterInstance.ephemeral()
    key = windows()[-1]
    dg.materialize(ingestion_assets(), partition_key=key, resources=resources, instance=instance)
    defs = dg.Definitions(
        assets=[saved_search_matches],
        sensors=[saved_search_sensor],
        resources={"postgres": clean_db.resource(), "search_delivery": delivery()},
    )
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    requests = saved_search_sensor(context)
    assert [r.partition_key for r in requests] == [key]
    nothing = saved_search_sensor(context)  # the cursor moved past the load
    assert isinstance(nothing, dg.SkipReason)
    # a daemon restarted without its cursor asks again with the same run key, which the
    # daemon never launches twice (and a run that did would write nothing: see above)
    fresh = dg.build_sensor_context(instance=instance, definitions=defs)
    assert [r.run_key for r in saved_search_sensor(fresh)] == [r.run_key for r in requests]
    # a new load of the window is a new run
    dg.materialize(ingestion_assets(), partition_key=key, resources=resources, instance=instance)
    (reload,) = saved_search_sensor(context)
    assert reload.partition_key == key and reload.run_key != requests[0].run_key


def test_loads_between_two_ticks_each_get_their_run(clean_db, resources):
    """Two windows loaded while the sensor did not tick (a daemon down, a backfill): each
    is matched, oldest first; none is lost to the newer one."""
    instance = dg.DagsterInstance.ephemeral()
    older, newer = windows()[-2:]
    defs = dg.Definitions(
        assets=[saved_search_matches],
        sensors=[saved_search_sensor],
        resources={"postgres": clean_db.resource(), "search_delivery": delivery()},
    )
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    assert isinstance(saved_search_sensor(context), dg.SkipReason)  # nothing loaded yet
    for key in (older, newer):
        dg.materialize(
            ingestion_assets(), partition_key=key, resources=resources, instance=instance
        )
    assert [r.partition_key for r in saved_search_sensor(context)] == [older, newer]
    assert isinstance(saved_search_sensor(context), dg.SkipReason)


def test_a_job_arriving_later_on_a_second_board_is_not_announced_again(
    clean_db, data_dir, webhook, tmp_path
):
    """A twin of an announced job on another board is the same job: never announced
    again. To a search saved after the job's first listing arrived it is not news either
    (before, the twin was announced to it as a new job); to one saved before, whose
    filters only the twin passes, it is news, with the other board's link."""
    resource = delivery()
    first, second = windows()[-2:]
    with clean_db.connect() as conn:
        search = store.create_search(conn, QUERY, {"webhook_url": webhook.url()}).search
        on_remotive = store.create_search(
            conn, {**QUERY, "source": "remotive"}, {"webhook_url": webhook.url("/remotive")}
        ).search
    load(clean_db, data_dir, first)
    match_window(clean_db, first, resource)
    assert len(webhook.posts) == 1 and ("jobicy", JOBICY_ID) in listed(webhook.posts[0])
    with clean_db.connect() as conn:  # saved after the Jobicy listing arrived
        later = store.create_search(conn, QUERY, {"webhook_url": webhook.url("/later")}).search

    load(clean_db, data_dir, second, with_remotive_twin(tmp_path / "twin"))
    # the pipeline made the Remotive copy one job with the Jobicy listing
    twin = clean_db.query(
        "SELECT duplicate_cluster_id, last_partition_key FROM public.jobs_listings_data "
        "WHERE source = 'remotive' AND source_job_id = '9117433'"
    )
    assert twin == [(f"jobicy:{JOBICY_ID}", second)]
    matched = match_window(clean_db, second, resource)

    metadata = matched.asset_materializations_for_node("saved_search_matches")[0].metadata
    assert metadata["window_listings"].value >= 1  # the copy is new in the second window
    assert metadata["searches_matched"].value == 3  # and it matches the three searches...
    assert metadata["matches_older_than_search"].value == 1  # ...the later one saw the job
    assert metadata["deliveries_written"].value == 1  # ...and the first announced it
    first_post, remotive_post = webhook.posts
    assert remotive_post["path"].startswith("/remotive?")
    (copy,) = remotive_post["json"]["listings"]
    assert (copy["source"], copy["source_job_id"]) == ("remotive", "9117433")
    assert copy["job_key"] == f"jobicy:{JOBICY_ID}"
    jobicy_url = next(
        j["url"] for j in first_post["json"]["listings"] if j["source_job_id"] == JOBICY_ID
    )
    assert copy["other_boards"] == [
        {"source": "jobicy", "source_name": queries.source_name("jobicy"), "url": jobicy_url}
    ]
    assert [(r[0], r[1]) for r in deliveries(clean_db)] == [
        (search.search_id, first),
        (on_remotive.search_id, second),
    ]
    assert later.search_id not in {r[0] for r in deliveries(clean_db)}
    assert clean_db.query(
        "SELECT count(*) FROM public.jobs_search_announced WHERE search_id = %s",
        (search.search_id,),
    ) == [(len(listed(first_post)) + 1,)]  # and the twin, remembered as a member of the job


def without_the_jobicy_job(folder: Path) -> Path:
    """The shipped recordings without the Jobicy job `JOBICY_ID` (a board that had not
    listed it yet when the window was first fetched)."""
    shutil.copytree(FIXTURES, folder)
    jobicy = json.loads((FIXTURES / "jobicy.json").read_text())
    jobicy["jobs"] = [j for j in jobicy["jobs"] if str(j["id"]) != JOBICY_ID]
    (folder / "jobicy.json").write_text(json.dumps(jobicy))
    return folder


def test_a_window_loaded_again_with_a_new_match_sends_a_follow_up_of_just_that_job(
    clean_db, data_dir, webhook, mailbox, tmp_path
):
    inbox, smtp_url = mailbox
    resource = delivery(smtp_url)
    key = windows()[-1]
    with clean_db.connect() as conn:
        search = store.create_search(
            conn, {"source": "jobicy"}, {"webhook_url": webhook.url(), "email": "r@example.org"}
        ).search
    load(clean_db, data_dir, key, without_the_jobicy_job(tmp_path / "less"))
    match_window(clean_db, key, resource)
    (first,) = webhook.posts
    assert ("jobicy", JOBICY_ID) not in listed(first) and listed(first)

    load(clean_db, data_dir, key)  # the same window again (a retried source): one job more
    again = match_window(clean_db, key, resource)
    assert again.asset_materializations_for_node("saved_search_matches")[0].metadata[
        "deliveries_written"
    ] == dg.IntMetadataValue(2)
    first, follow_up = webhook.posts
    assert listed(follow_up) == {("jobicy", JOBICY_ID)}  # only what was not announced yet
    assert follow_up["json"]["window"] == key
    keys = [p["headers"]["Idempotency-Key"] for p in webhook.posts]
    assert keys[0] == idempotency_key(search.search_id, key, "webhook") != keys[1]
    assert len(inbox.messages) == 2
    ids = {message_from_bytes(m.original_content)["Message-ID"] for m in inbox.messages}
    assert len(ids) == 2
    assert [(r[2], r[3], r[5]) for r in deliveries(clean_db)] == [
        ("email", "sent", len(listed(first))),
        ("email", "sent", 1),
        ("webhook", "sent", len(listed(first))),
        ("webhook", "sent", 1),
    ]
    assert clean_db.query(
        "SELECT window_key FROM public.jobs_search_announced "
        "WHERE search_id = %s AND source = 'jobicy' AND source_job_id = %s",
        (search.search_id, JOBICY_ID),
    ) == [(key,)]

    load(clean_db, data_dir, key)  # and a third time, with nothing new: nothing more
    match_window(clean_db, key, resource)
    assert deliver_tick(clean_db, resource) == "0 sent, 0 to retry, 0 given up"
    assert len(webhook.posts) == 2 and len(inbox.messages) == 2


def test_listings_back_after_expiring_are_announced_with_the_new_ones(clean_db, webhook):
    """Windows loaded by the pipeline's own staging, upsert and lifecycle code (as
    test_history.py does): two of three jobs expire in the second window and come back
    in the third, beside a new one; the one seen all along is neither new nor back."""
    resource = delivery()
    third = windows()[-1]
    starts = [INGESTION_PARTITIONS.time_window_for_partition_key(k).start for k in windows()]
    rust = {n: jobicy(n, f"Rust engineer {n}") for n in (1, 2, 3, 4)}
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        load_window((conn, read_conn), starts[0], {"jobicy": [rust[1], rust[2], rust[3]]})
        load_window((conn, read_conn), starts[1], {"jobicy": [rust[1]]})  # 2 and 3 expire
        search = store.create_search(conn, {"q": "rust"}, {"webhook_url": webhook.url()}).search
        load_window((conn, read_conn), starts[2], {"jobicy": list(rust.values())})
    match_window(clean_db, third, resource)
    match_window(clean_db, third, resource)  # again: nothing more

    assert clean_db.query(
        "SELECT source_job_id, status, reactivated_count FROM public.jobs_listings_data "
        "ORDER BY source_job_id"
    ) == [("1", "active", 0), ("2", "active", 1), ("3", "active", 1), ("4", "active", 0)]
    (post,) = webhook.posts
    assert listed(post) == {("jobicy", "2"), ("jobicy", "3"), ("jobicy", "4")}
    assert [r[1] for r in deliveries(clean_db)] == [third]
    assert post["json"]["search_id"] == search.search_id


def test_a_failing_webhook_is_retried_later_with_the_same_key_and_sent_once(
    clean_db, data_dir, webhook
):
    resource = delivery()
    key = windows()[-1]
    webhook.replies = [503]
    with clean_db.connect() as conn:
        search = store.create_search(conn, QUERY, {"webhook_url": webhook.url()}).search
    load(clean_db, data_dir, key)
    match_window(clean_db, key, resource)

    ((*_, status, attempts, _, error, _),) = deliveries(clean_db)
    assert (status, attempts) == ("pending", 1)
    assert "answered HTTP 503" in error and HOOK_SECRET not in error and "/hook" not in error
    (wait,) = clean_db.query(
        "SELECT extract(epoch FROM next_attempt_at - last_attempt_at) "
        "FROM public.jobs_search_deliveries"
    )[0]
    assert 25 <= wait <= 35  # the first backoff: 30 s
    assert deliver_tick(clean_db, resource) == "0 sent, 0 to retry, 0 given up"  # not due yet

    with clean_db.connect() as conn:  # time passes: the retry is due
        conn.execute("UPDATE public.jobs_search_deliveries SET next_attempt_at = now()")
    assert deliver_tick(clean_db, resource) == "1 sent, 0 to retry, 0 given up"
    assert deliver_tick(clean_db, resource) == "0 sent, 0 to retry, 0 given up"

    assert [p["status"] for p in webhook.posts] == [503, 200]
    keys = {p["headers"]["Idempotency-Key"] for p in webhook.posts}
    assert keys == {idempotency_key(search.search_id, key, "webhook")}
    assert webhook.posts[0]["json"] == webhook.posts[1]["json"]
    ((*_, status, attempts, _, _, _),) = deliveries(clean_db)
    assert (status, attempts) == ("sent", 2)


def test_a_private_target_is_refused_at_delivery_and_recorded_without_its_url(
    clean_db, data_dir, webhook, caplog
):
    caplog.set_level(logging.DEBUG)
    key = windows()[-1]
    with clean_db.connect() as conn:
        store.create_search(conn, QUERY, {"webhook_url": webhook.url()})
    load(clean_db, data_dir, key)
    result = match_window(clean_db, key, delivery(allow_private="off"))

    assert webhook.posts == []  # never called
    ((*_, status, attempts, _, error, _),) = deliveries(clean_db)
    assert (status, attempts) == ("pending", 1)
    assert error.startswith("target refused: the webhook host 127.0.0.1 resolves to 127.0.0.1")
    assert "JOBS_ALERT_ALLOW_PRIVATE=on" in error
    logged = ours(caplog) + run_messages(result)
    assert "target refused" in logged
    assert HOOK_SECRET not in logged + error and "/hook" not in logged


def test_a_query_the_matcher_cannot_read_is_named():
    with pytest.raises(QueryError, match="unknown filter\\(s\\) colour"):
        filters_for({"q": "python", "colour": "blue"})
    with pytest.raises(QueryError, match="posted_since='yesterday' is not a date"):
        filters_for({"posted_since": "yesterday"})
    assert filters_for({"region": "Europe", "min_salary_usd": "90000"}).min_salary_usd == 90000


def test_redact_masks_the_secrets_a_delivery_error_could_carry():
    text = f"POST http://127.0.0.1:9/hook?token={HOOK_SECRET} smtp://jobs:{MAIL_PASSWORD}@mx:25"
    masked = redact(text)
    assert HOOK_SECRET not in masked and MAIL_PASSWORD not in masked
    assert "smtp://jobs:***@mx:25" in masked


def test_a_webhook_that_does_not_answer_in_time_or_redirects_is_a_failed_attempt(webhook):
    local = TargetPolicy(allow_http=True, allow_private=True)
    webhook.delay = 1.5
    with pytest.raises(DeliveryError, match=r"did not answer within 0\.3 s") as slow:
        post_webhook(webhook.url(), b"{}", "key-1", local, timeout_seconds=0.3)
    webhook.delay = 0.0
    webhook.replies = [302]
    with pytest.raises(DeliveryError, match="answered HTTP 302") as moved:
        post_webhook(webhook.url(), b"{}", "key-1", local, timeout_seconds=3.0)
    assert [p["headers"]["Idempotency-Key"] for p in webhook.posts] == ["key-1", "key-1"]
    for error in (slow.value, moved.value):
        assert HOOK_SECRET not in str(error) and "/hook" not in str(error)


def test_no_log_holds_the_webhooks_path_or_query_even_at_debug(webhook, caplog):
    """urllib3 logs each request line at DEBUG; a webhook's path can be its secret (a
    chat service's hook URL is /services/<team>/<secret>), so none of it is logged."""
    caplog.set_level(logging.DEBUG)
    local = TargetPolicy(allow_http=True, allow_private=True)
    url = webhook.url("/services/T0001/SLACKSECRETPATH")
    post_webhook(url, b"{}", "key-1", local, timeout_seconds=3.0)
    webhook.replies = [503]
    with pytest.raises(DeliveryError):
        post_webhook(url, b"{}", "key-2", local, timeout_seconds=3.0)
    assert len(webhook.posts) == 2
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "SLACKSECRETPATH" not in logged and HOOK_SECRET not in logged
    assert "/services" not in logged
    # urllib3's own log is left as it is for every other request
    urllib3_logger = logging.getLogger("urllib3.connectionpool")
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        urllib3_logger.debug("another request %s", "/elsewhere")
    assert "/elsewhere" in caplog.text


def test_a_stored_query_the_database_cannot_parse_is_skipped_and_the_others_still_match(
    clean_db, webhook
):
    """A search stored before `q` was checked (40 '-' in a row: PostgreSQL's parser
    fails on it) is skipped with its reason; it never stops the window's other searches."""
    resource = delivery()
    last = windows()[-1]
    start = INGESTION_PARTITIONS.time_window_for_partition_key(last).start
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        store.create_search(conn, {"q": "-" * 40}, {"webhook_url": webhook.url()})
        good = store.create_search(conn, {"q": "rust"}, {"webhook_url": webhook.url()}).search
        load_window((conn, read_conn), start, {"jobicy": [jobicy(1, "Rust engineer")]})

    result = match_window(clean_db, last, resource)

    (post,) = webhook.posts
    assert post["json"]["search_id"] == good.search_id
    assert listed(post) == {("jobicy", "1")}
    (event,) = result.asset_materializations_for_node("saved_search_matches")
    assert event.metadata["searches_skipped"].value == 1
    with pytest.raises(QueryError, match="q: 40 '-' with no word between them"):
        filters_for({"q": "-" * 40})


def test_a_webhook_on_an_internationalised_name_is_posted_to_its_ascii_form(webhook):
    """A host name in another script (accepted at creation) goes on the wire as IDNA
    (xn--): Host header and TLS name alike; a path in another script is percent-encoded."""
    seen: list[str] = []

    def lookup(host: str, port: int, **kwargs: object) -> list:
        seen.append(host)
        return socket.getaddrinfo("127.0.0.1", port, **kwargs)

    local = TargetPolicy(allow_http=True, allow_private=True, lookup=lookup)
    port = webhook.server.server_address[1]
    url = f"http://例子.example:{port}/hook/café?token={HOOK_SECRET}"
    assert post_webhook(url, b"{}", "key-1", local, timeout_seconds=3.0) == 200
    (post,) = webhook.posts
    assert post["headers"]["Host"] == f"xn--fsqu00a.example:{port}"
    assert post["path"].startswith("/hook/caf%C3%A9?token=")
    assert seen


def this_machines_address() -> str:
    """The machine's address on its network (no packet is sent), or loopback without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.255", 9))
            return sock.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def test_a_password_goes_unencrypted_only_to_this_machine() -> None:
    """A server without STARTTLS gets the login only on a loopback address (a local
    relay, the tests' server); elsewhere the message is refused before any password is
    sent, with what to do."""
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("192.0.2.2") and not is_loopback("::ffff:10.0.0.1")
    assert not is_loopback("mail.example.org")
    inbox, logins = MailInbox(), []

    def remember(server, session, envelope, mechanism, auth_data) -> AuthResult:
        logins.append(auth_data)
        return authenticate(server, session, envelope, mechanism, auth_data)

    port = free_port()
    controller = Controller(inbox, hostname="0.0.0.0", port=port, authenticator=remember,
                            auth_require_tls=False)  # fmt: skip
    controller.start()
    try:
        local = Mailer(f"smtp://jobs:{MAIL_PASSWORD}@127.0.0.1:{port}", "a@example.org")
        local.send("b@example.org", "local", "text", "key-1")
        assert len(inbox.messages) == 1 and len(logins) == 1
        address = this_machines_address()
        remote = Mailer(f"smtp://jobs:{MAIL_PASSWORD}@{address}:{port}", "a@example.org")
        if is_loopback(address):  # a machine with no network: nothing else to reach
            return
        with pytest.raises(DeliveryError, match="offers no STARTTLS.*use smtps://"):
            remote.send("b@example.org", "remote", "text", "key-2")
        assert len(inbox.messages) == 1 and len(logins) == 1  # no password, no message
    finally:
        controller.stop()


# --- receivers that are slow, refuse, echo, or sit behind several addresses ------------

LOCAL = TargetPolicy(allow_http=True, allow_private=True)


def plan_rust_window(db: Database, urls: list[str]) -> list[str]:
    """The newest window with one new Rust job and a search for it per webhook URL, its
    deliveries planned as `saved_search_matches` plans them and not sent yet; the
    searches' ids, in the order of `urls`."""
    key = windows()[-1]
    window = INGESTION_PARTITIONS.time_window_for_partition_key(key)
    with db.connect() as conn, db.connect() as read_conn:
        ids = [  # saved before the job arrives: it is news to them
            store.create_search(conn, {"q": "rust"}, {"webhook_url": url}).search.search_id
            for url in urls
        ]
        load_window((conn, read_conn), window.start, {"jobicy": [jobicy(1, "Rust engineer")]})
        plan = plan_window(conn, key, window.start, email_enabled=False, window_end=window.end)
    assert plan.deliveries == len(urls)
    return ids


def delivery_rows(db: Database) -> dict[str, tuple]:
    """search id -> (status, attempts, last_error, whether sent_at is set)."""
    rows = db.query(
        "SELECT search_id, status, attempts, last_error, sent_at IS NOT NULL "
        "FROM public.jobs_search_deliveries"
    )
    return {row[0]: row[1:] for row in rows}


def make_all_due(db: Database, older_by: timedelta = timedelta(0)) -> None:
    """Time passes: every retry is due, and the messages are `older_by` older."""
    with db.connect() as conn:
        conn.execute(
            "UPDATE public.jobs_search_deliveries "
            "SET next_attempt_at = now(), created_at = created_at - %s",
            (older_by,),
        )


@pytest.mark.parametrize(("head", "says"), [
    (SLOW_HEADERS, r"did not answer within 1 s"),
    (SLOW_BODY, r"answered HTTP 500 Err"),
], ids=["headers", "body"])  # fmt: skip
def test_a_webhook_that_trickles_its_answer_is_cut_off_at_the_deadline(webhook, head, says):
    """A byte every half second keeps each read inside its timeout; the time limit is on
    the whole request, so the attempt ends after 1 s, not when the server stops (6 s)."""
    webhook.replies = [trickling(head, seconds=20)]
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=says) as failed:
        post_webhook(webhook.url(), b"{}", "key-1", LOCAL, timeout_seconds=1.0)
    assert time.monotonic() - started < 10  # its 1 s (and a busy machine), not the 20 s
    assert HOOK_SECRET not in str(failed.value) and "/hook" not in str(failed.value)


def test_a_trickling_webhook_is_cut_off_while_the_others_are_recorded_as_they_finish(
    clean_db, webhook
):
    """One receiver trickles its answer; the other three messages of the batch are
    recorded sent at once (not when the slowest is done), the slow one is given up at
    its deadline, kept pending, and sent by the next call, with the same key."""
    with receiving() as slow:
        slow.replies = [trickling(SLOW_HEADERS, seconds=40)]
        slow_id, *fast_ids = plan_rust_window(
            clean_db, [slow.url("/slow"), *(webhook.url(f"/fast{n}") for n in range(3))]
        )
        policy = SendPolicy(target=LOCAL, timeout_seconds=8.0, workers=4)
        reports = []
        sender = threading.Thread(target=lambda: reports.append(send_due(clean_db.connect, policy)))
        started = time.monotonic()
        sender.start()
        rows = delivery_rows(clean_db)
        while time.monotonic() - started < 7 and any(rows[i][0] != "sent" for i in fast_ids):
            time.sleep(0.05)
            rows = delivery_rows(clean_db)
        assert [rows[i][:2] for i in fast_ids] == [("sent", 1)] * 3
        assert rows[slow_id][0] == "sending"  # recorded while the slow one is under way
        sender.join(30)
        assert time.monotonic() - started < 25  # its 8 s (and a busy machine), not the 40 s

        (report,) = reports
        assert (len(report.sent), len(report.retrying)) == (3, 1)
        status, attempts, error, _ = delivery_rows(clean_db)[slow_id]
        assert (status, attempts) == ("pending", 1)
        assert "did not answer within 8 s" in error and HOOK_SECRET not in error

        make_all_due(clean_db)  # the receiver answers this time
        assert len(send_due(clean_db.connect, policy).sent) == 1
        assert delivery_rows(clean_db)[slow_id][:2] == ("sent", 2)
        assert len({p["headers"]["Idempotency-Key"] for p in slow.posts}) == 1
        assert len(slow.posts) == 2 and len(webhook.posts) == 3  # none sent twice


def test_a_sender_whose_claim_lapsed_cannot_overwrite_what_another_recorded(clean_db, webhook):
    """The first sender waits on a trickling receiver; a second one takes its claim as
    left by a dead sender (older than its `stale_claim`), delivers and records `sent`.
    The first sender's failure, coming later, is not written over it."""
    webhook.replies = [trickling(SLOW_HEADERS, seconds=40), 200]
    (search_id,) = plan_rust_window(clean_db, [webhook.url()])
    reports = []
    first = threading.Thread(
        target=lambda: reports.append(
            send_due(clean_db.connect, SendPolicy(target=LOCAL, timeout_seconds=10.0))
        )
    )
    first.start()
    while not webhook.posts and first.is_alive():
        time.sleep(0.05)
    time.sleep(0.3)
    impatient = SendPolicy(target=LOCAL, timeout_seconds=2.0, stale_claim=timedelta(seconds=0.2))
    assert len(send_due(clean_db.connect, impatient).sent) == 1
    assert delivery_rows(clean_db)[search_id] == ("sent", 1, None, True)

    first.join(30)
    (report,) = reports
    assert len(report.superseded) == 1 and "did not answer" in report.superseded[0].error
    assert not (report.sent or report.retrying or report.given_up)
    assert delivery_rows(clean_db)[search_id] == ("sent", 1, None, True)
    assert [p["status"] for p in webhook.posts] == [0, 200]


@pytest.mark.parametrize("first", ["::1", "100::1"], ids=["refused", "no-route"])
def test_each_checked_address_is_tried_in_turn_until_one_takes_the_connection(webhook, first):
    """A dual-stack name, with the receiver on IPv4 only: the IPv6 address the resolver
    gives first fails (nothing listens on ::1; 100::/64 discards everything), and the
    IPv4 address after it takes the message. No address is used unchecked."""
    port = webhook.server.server_address[1]

    def dual_stack(host: str, port: int, **kwargs: object) -> list:
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (first, port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    url = f"http://hooks.example.test:{port}/hook?token={HOOK_SECRET}"
    policy = TargetPolicy(allow_http=True, allow_private=True, lookup=dual_stack)
    assert check_target(url, policy) == [first, "127.0.0.1"]  # the resolver's order
    assert post_webhook(url, b"{}", "key-1", policy, timeout_seconds=5.0) == 200
    assert [p["headers"]["Host"] for p in webhook.posts] == [f"hooks.example.test:{port}"]

    closed = free_port()  # nothing listens at either address: both tried, none named
    with pytest.raises(DeliveryError, match="unreachable at any of its 2 addresses") as failed:
        post_webhook(url.replace(str(port), str(closed)), b"{}", "key-2", policy, 5.0)
    assert "127.0.0.1" not in str(failed.value) and first not in str(failed.value)
    public_policy = TargetPolicy(allow_http=True, lookup=dual_stack)  # loopback not allowed
    with pytest.raises(DeliveryError, match="target refused"):
        post_webhook(url, b"{}", "key-3", public_policy, timeout_seconds=5.0)
    assert len(webhook.posts) == 1


SECRET_PATH = "/hooks/T0001/s3cretPathPart"


def answering(status: int, reason: str, body: str) -> Reply:
    """An answer whose reason and body may repeat the request's path (`{path}`, or
    `{PATH}` upper-cased)."""

    def answer(handler: BaseHTTPRequestHandler) -> int:
        path = {"path": handler.path, "PATH": handler.path.upper()}
        text = body.format(**path).encode()
        handler.send_response(status, reason.format(**path))
        handler.send_header("Content-Length", str(len(text)))
        handler.end_headers()
        handler.wfile.write(text)
        return status

    return answer


def test_an_answer_echoing_the_webhooks_path_is_stored_and_logged_without_it(
    clean_db, data_dir, webhook, caplog
):
    """Express answers an unknown route with "Cannot POST <path>": the path (here its
    secret part and the token) never reaches the table or a log; the rest does."""
    caplog.set_level(logging.DEBUG)
    webhook.replies = [answering(404, "Not Found", "Cannot POST {path}")]
    key = windows()[-1]
    with clean_db.connect() as conn:
        store.create_search(conn, QUERY, {"webhook_url": webhook.url(SECRET_PATH)})
    load(clean_db, data_dir, key)
    result = match_window(clean_db, key, delivery())

    ((*_, status, attempts, _, error, _),) = deliveries(clean_db)
    assert (status, attempts) == ("pending", 1)
    assert "answered HTTP 404 Not Found: Cannot POST /***/***/***?***=***" in error
    logged = ours(caplog) + run_messages(result)
    assert "answered HTTP 404 Not Found" in logged
    for piece in ("s3cret", "PathPart", "T0001", HOOK_SECRET):
        assert piece not in error and piece not in logged


@pytest.mark.parametrize(
    ("reason", "body"),
    [
        ("Not Found", '{{"error": "no route", "path": "{path}"}}'),  # in JSON
        ("Not Found", "no hook at {path:.18}"),  # cut short: "/hooks/T0001/s3cre"
        ("Not Found", "NO HOOK AT {PATH}"),  # upper-cased
        ("No hook {path}", ""),  # in the reason phrase
    ],
    ids=["json", "cut", "case", "reason"],
)
def test_the_path_is_masked_however_the_answer_repeats_it(webhook, reason, body):
    """Whole, cut short, upper-cased, in JSON or in the reason phrase: no word of the
    path's secret part is kept."""
    webhook.replies = [answering(404, reason, body)]
    with pytest.raises(DeliveryError, match="answered HTTP 404") as failed:
        post_webhook(webhook.url(SECRET_PATH), b"{}", "key-1", LOCAL, timeout_seconds=3.0)
    error = str(failed.value).lower()
    assert "s3cre" not in error and "t0001" not in error and HOOK_SECRET not in error


@pytest.mark.parametrize(
    ("answer", "first", "two_hours_on"),
    [
        (410, "undeliverable", None),  # Gone: the receiver says the hook is no more
        (404, "pending", "undeliverable"),  # refused: retried for an hour
        (401, "pending", "undeliverable"),
        (429, "pending", "pending"),  # asks for a later attempt: retried for two days
        (503, "pending", "pending"),
    ],
)
def test_how_long_a_message_is_retried_depends_on_the_webhooks_answer(
    clean_db, webhook, answer, first, two_hours_on
):
    webhook.replies = [answer, answer]
    (search_id,) = plan_rust_window(clean_db, [webhook.url()])
    send_due(clean_db.connect, SendPolicy(target=LOCAL))
    status, attempts, error, _ = delivery_rows(clean_db)[search_id]
    assert (status, attempts) == (first, 1) and f"answered HTTP {answer}" in error
    if two_hours_on:
        make_all_due(clean_db, older_by=timedelta(hours=2))
        send_due(clean_db.connect, SendPolicy(target=LOCAL))
        assert delivery_rows(clean_db)[search_id][:2] == (two_hours_on, 2)
    assert len(webhook.posts) == (2 if two_hours_on else 1)


@pytest.mark.parametrize(
    "address",
    [
        "224.0.0.1",  # multicast
        "239.255.255.250",  # multicast (SSDP)
        "ff02::1",  # multicast, link scope
        "ff05::2",  # multicast, site scope
        "fec0::1",  # site-local (deprecated)
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
        "::ffff:0:a9fe:a9fe",  # IPv4-translated 169.254.169.254
        "192.0.0.8",  # IPv4 dummy address (IETF protocol assignments)
        "3fff::1",  # IPv6 documentation
        "2001:4860:4860::8888%eth0",  # a global address with a zone id
    ],
)
def test_addresses_python_counts_as_global_are_not_public_targets(address):
    """`ipaddress.is_global` is True for all of these on Python 3.11; none is an address
    on the internet a webhook may be sent to."""
    assert not is_public(address)
    host = f"[{address.replace('%', '%25')}]" if ":" in address else address
    with pytest.raises(UnsafeTarget):
        check_target(f"https://{host}/hook", TargetPolicy())


def test_public_targets_stay_allowed_and_a_zone_id_never_is():
    for address in ("8.8.8.8", "2001:4860:4860::8888", "::ffff:0:808:808", "64:ff9b::808:808"):
        assert is_public(address)
    with pytest.raises(UnsafeTarget, match="zone id"):
        check_target("https://[fe80::1%25eth0]/hook", TargetPolicy(allow_private=True))


def test_a_mail_server_that_trickles_its_greeting_is_cut_off_at_the_deadline():
    """A greeting of endless continuation lines ("220-…"), one every half second: each
    read is inside the timeout, the conversation as a whole is cut off at 1 s."""
    with socket.create_server(("127.0.0.1", 0)) as server:

        def greet_slowly() -> None:
            conn, _ = server.accept()
            ends = time.monotonic() + 6
            with conn, contextlib.suppress(OSError):
                while time.monotonic() < ends:
                    conn.sendall(b"220-still here\r\n")
                    time.sleep(0.5)

        threading.Thread(target=greet_slowly, daemon=True).start()
        port = server.getsockname()[1]
        mailer = Mailer(f"smtp://jobs:{MAIL_PASSWORD}@127.0.0.1:{port}", "a@example.org", 1.0)
        started = time.monotonic()
        with pytest.raises(DeliveryError, match=r"did not finish within 1 s") as failed:
            mailer.send("b@example.org", "subject", "text", "key-1")
    assert time.monotonic() - started < 5  # its 1 s (and a busy machine), not the 6 s
    assert MAIL_PASSWORD not in str(failed.value)


RUST = "We are hiring a senior Rust engineer to build our trading platform in Rust and Tokio. " * 3


def test_a_job_keeps_its_id_after_its_first_listing_expired_and_is_not_announced_again(
    clean_db,
):
    """W1 announces Jobicy's listing; W2 a Remotive twin joins its job (nothing new);
    W3 the Jobicy listing expires and the twin speaks for the job; W4 a Himalayas twin
    arrives: still the same job, under the same id (the expired first listing still names
    it, so a feed's entry keeps its id), so still nothing new."""
    keys = latest_windows(4)
    starts = [INGESTION_PARTITIONS.time_window_for_partition_key(k).start for k in keys]
    job = jobicy(1, "Senior Rust Engineer", company="Acme", jobDescription=RUST)
    other = jobicy(2, "Office manager", company="Other")
    twin = {"id": 9001, "url": "https://remotive.test/9001", "title": "Senior Rust Engineer",
            "company_name": "Acme", "candidate_required_location": "Anywhere",
            "description": RUST}  # fmt: skip
    third = {**himalayas("h1"), "title": "Senior Rust Engineer", "companyName": "Acme",
             "description": RUST}  # fmt: skip
    windows = [
        {"jobicy": [job, other]},
        {"jobicy": [job, other], "remotive": [twin]},
        {"jobicy": [other], "remotive": [twin]},
        {"jobicy": [other], "remotive": [twin], "himalayas": [third]},
    ]
    written = []
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        search = store.create_search(conn, {"q": "rust"}, {"webhook_url": "https://1.1.1.1/h"})
        for key, start, listings in zip(keys, starts, windows, strict=True):
            load_window((conn, read_conn), start, listings)
            written.append(plan_window(conn, key, start, email_enabled=False).deliveries)
    clusters = dict(clean_db.query(
        "SELECT source || ':' || source_job_id, duplicate_cluster_id FROM "
        "public.jobs_listings_data WHERE title LIKE 'Senior Rust%'"))  # fmt: skip
    assert clusters == dict.fromkeys(["jobicy:1", "remotive:9001", "himalayas:h1"], "jobicy:1")
    speaker = "SELECT source_job_id FROM public.jobs_listings_data WHERE is_canonical AND title LIKE 'Senior Rust%'"
    assert clean_db.query(speaker) == [("9001",)]  # the earliest active member
    assert written == [1, 0, 0, 0]
    announced = clean_db.query(
        "SELECT job_key FROM public.jobs_search_announced WHERE search_id = %s ORDER BY 1",
        (search.search.search_id,),
    )
    assert [k for (k,) in announced] == ["himalayas:h1", "jobicy:1", "remotive:9001"]


def feed_jobs(db: Database, query: dict) -> list[tuple[str, str]]:
    """The search's Atom feed as the API builds it: each entry's id and listing's key."""
    with db.connect(autocommit=True) as conn:
        listings, _ = feed_listings(conn, SavedQuery(**query))
    return [(entry_id(job_key(x)), f"{x['source']}:{x['source_job_id']}") for x in listings]


@pytest.mark.parametrize("board", ["remotive", "jobicy"])
def test_a_job_posted_again_after_its_listing_expired_is_not_announced_again(clean_db, board):
    """W1 announces Jobicy's listing; W2 it expires; W3 the same job is posted again
    (on another board, or on the same board under a new id) within the re-post horizon:
    the re-post joins the job, which keeps its id, so the search hears nothing new and
    the feed's entry keeps its id while it now links the re-post. A search saved while
    the job was gone (after W2) hears of it: the job is back, as a listing back after
    expiring is."""
    keys = latest_windows(3)
    starts = [INGESTION_PARTITIONS.time_window_for_partition_key(k).start for k in keys]
    job = jobicy(1, "Senior Rust Engineer", company="Acme", jobDescription=RUST)
    other = jobicy(2, "Office manager", company="Other")
    repost = (
        {"id": 9001, "url": "https://remotive.test/9001", "title": "Senior Rust Engineer",
         "company_name": "Acme", "candidate_required_location": "Anywhere",
         "description": RUST}
        if board == "remotive"
        else jobicy(3, "Senior Rust Engineer", company="Acme", jobDescription=RUST)
    )  # fmt: skip
    windows = [{"jobicy": [job, other]}, {"jobicy": [other]}, {"jobicy": [other]}]
    windows[2].setdefault(board, []).append(repost)
    written, feeds = [], []
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        search = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
        for n, (key, start, listings) in enumerate(zip(keys, starts, windows, strict=True)):
            load_window((conn, read_conn), start, listings)
            written.append(plan_window(conn, key, start, email_enabled=False).deliveries)
            feeds.append(feed_jobs(clean_db, {"q": "rust"}))
            if n == 1:  # the job is gone
                later = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
    reposted = f"{board}:{repost['id']}"
    assert written == [1, 0, 1]  # the later search's message
    assert announced_to(clean_db, later) == [{(board, str(repost["id"]))}]
    assert [len(f) for f in feeds] == [1, 0, 1]  # nothing active matched in W2
    assert feeds[2][0] == (feeds[0][0][0], reposted)  # the same entry id, the re-post's link
    assert announced_to(clean_db, search) == [{("jobicy", "1")}]


def test_a_listing_replaced_by_its_re_post_in_one_window_is_no_news(clean_db):
    """The board swaps a listing for its re-post under a new id from one window to the
    next: the job never went away, so a search saved while the first listing was up
    hears nothing, and the search that announced it nothing again."""
    keys = latest_windows(2)
    first = jobicy(1, "Senior Rust Engineer", company="Acme", jobDescription=RUST)
    repost = jobicy(3, "Senior Rust Engineer", company="Acme", jobDescription=RUST)
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        early = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), starts(keys)[0], {"jobicy": [first]})
        plan(conn, keys[0])
        late = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), starts(keys)[1], {"jobicy": [repost]})
        assert plan(conn, keys[1]) == 0
    assert announced_to(clean_db, early) == [{("jobicy", "1")}]
    assert announced_to(clean_db, late) == []


# --- news: jobs that arrived after the search was saved, each once --------------------


def test_a_search_saved_while_a_load_is_running_hears_of_that_load_s_listings(clean_db):
    """A window's load inserts its listings, and before it commits a search is saved (it
    cannot see them: they are not committed). The listings were inserted before the search
    existed, yet they are news to it: the load commits after the search was stored. A
    listing committed before the search was stored is not."""
    keys = latest_windows(2)
    window_starts = starts(keys)
    rust = {"jobicy": [jobicy(1, "Rust engineer", company="Acme")]}
    both = {"jobicy": [jobicy(1, "Rust engineer", company="Acme"),
                       jobicy(2, "Rust developer", company="Other")]}  # fmt: skip
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        load_window((conn, read_conn), window_starts[0], rust)
        stage_window(conn, keys[1], window_starts[1], both)
        with conn.transaction():  # the load, not yet committed
            upsert_window(conn, read_conn, keys[1], window_starts[1])
            with clean_db.connect() as other:
                search = store.create_search(other, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
            assert clean_db.query(
                "SELECT count(*) FROM public.jobs_listings_data WHERE source_job_id = '2'"
            ) == [(0,)]  # the search could not see it
        window = INGESTION_PARTITIONS.time_window_for_partition_key(keys[1])
        plan_window(conn, keys[1], window.start, email_enabled=False, window_end=window.end)
    assert announced_to(clean_db, search) == [{("jobicy", "2")}]


def stage_window(conn, key: str, start: datetime, listings: dict[str, list[dict]]) -> None:
    """Stage a window's payloads (committed), as the fetch does, without loading them."""
    with conn.transaction():
        for source, payloads in listings.items():
            for payload in payloads:
                conn.execute(
                    "INSERT INTO staging.staging_jobs_listings_data VALUES (%s, %s, %s, %s, %s)",
                    (source, key, str(payload[SOURCES[source].id_field]), json.dumps(payload),
                     start),
                )  # fmt: skip


#: never called: these tests only plan (write) the messages
UNCALLED_HOOK = "https://1.1.1.1/h"


def plan(conn, key: str) -> int:
    """What `saved_search_matches` plans for the window `key` (its window's end as the
    asset gives it); the messages written."""
    window = INGESTION_PARTITIONS.time_window_for_partition_key(key)
    return plan_window(
        conn, key, window.start, email_enabled=False, window_end=window.end
    ).deliveries


def starts(keys: list[str]) -> list:
    return [INGESTION_PARTITIONS.time_window_for_partition_key(k).start for k in keys]


def announced_to(db: Database, search: store.CreatedSearch) -> list[set[tuple[str, str]]]:
    """The jobs each message to the search listed, in order."""
    rows = db.query(
        "SELECT payload FROM public.jobs_search_deliveries WHERE search_id = %s "
        "AND channel = 'webhook' ORDER BY window_key, part",
        (search.search.search_id,),
    )
    return [{(j["source"], j["source_job_id"]) for j in payload["listings"]} for (payload,) in rows]


EDITS = {  # (the search, the listing as it arrived, as edited later)
    "title": ({"q": "rust"}, {"jobTitle": "Go developer"}, {"jobTitle": "Go and Rust developer"}),
    "salary": (
        {"q": "developer", "min_salary_usd": 100_000},
        {"jobTitle": "Rust developer"},
        {"jobTitle": "Rust developer", "annualSalaryMin": 120_000, "annualSalaryMax": 140_000,
         "salaryCurrency": "USD"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_listing_edited_to_match_is_announced_by_the_window_that_changed_it(clean_db, edit):
    """A listing that arrived after the search was saved and matched it only once edited
    (its title, or a salary stated later) is news in the window that changed it; the
    same edit to a listing older than the search tells the search nothing. Before, only
    listings first seen or back in a window were matched: the edited one never was."""
    query, arrived, edited = EDITS[edit]
    keys = latest_windows(3)

    def both(fields: dict) -> dict[str, list[dict]]:  # two companies: two jobs
        return {"jobicy": [jobicy(1, company="Old Co", **fields), jobicy(2, **fields)]}

    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        older = {"jobicy": both(arrived)["jobicy"][:1]}
        load_window((conn, read_conn), starts(keys)[0], older)
        plan(conn, keys[0])
        search = store.create_search(conn, query, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), starts(keys)[1], both(arrived))
        written = [plan(conn, keys[1])]
        load_window((conn, read_conn), starts(keys)[2], both(edited))
        written += [plan(conn, keys[2]), plan(conn, keys[2])]  # and again: nothing more
    assert written == [0, 1, 0]
    assert announced_to(clean_db, search) == [{("jobicy", "2")}]


def test_a_window_loaded_again_tells_a_search_only_of_what_arrived_after_it_was_saved(
    clean_db,
):
    """The window is matched, a search is saved, and the window is loaded again (a
    retried source, an inbox file) with one listing more: only that one is news to it
    (before, all six were). A search saved before the window was first loaded (the
    window loaded late: it began before the search) hears of all six."""
    (key,) = latest_windows(1)
    (start,) = starts([key])
    five = [jobicy(n, f"Python developer {n}", company=f"Co{n}") for n in range(1, 6)]
    six = [*five, jobicy(99, "Python developer 99", company="Co99")]
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        early = store.create_search(conn, {"q": "python"}, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), start, {"jobicy": five})
        assert plan(conn, key) == 1
        later = store.create_search(conn, {"q": "python"}, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), start, {"jobicy": six})
        assert plan(conn, key) == 2  # a follow-up to the early search, the first to the later
    assert announced_to(clean_db, later) == [{("jobicy", "99")}]
    assert announced_to(clean_db, early) == [{("jobicy", str(n)) for n in range(1, 6)},
                                             {("jobicy", "99")}]  # fmt: skip


def test_a_listing_back_before_the_search_was_saved_is_not_news_when_its_window_is_reloaded(
    clean_db,
):
    """A listing came back in the newest window; the window was matched, then a search
    saved, then the window loaded again: its return is not news to the search (before, it
    was announced as back). A return after the search was saved still is."""
    keys = latest_windows(3)
    first, second, third = starts(keys)
    rust = {n: jobicy(n, f"Rust engineer {n}") for n in (1, 2, 3)}
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        load_window((conn, read_conn), first, {"jobicy": [rust[1], rust[2], rust[3]]})
        load_window((conn, read_conn), second, {"jobicy": [rust[3]]})  # 1 and 2 expire
        load_window((conn, read_conn), third, {"jobicy": [rust[1], rust[3]]})  # 1 is back
        plan(conn, keys[2])
        search = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), third, {"jobicy": list(rust.values())})  # 2 back now
        plan(conn, keys[2])
    assert clean_db.query(
        "SELECT source_job_id, status, reactivated_count FROM public.jobs_listings_data "
        "ORDER BY source_job_id"
    ) == [("1", "active", 1), ("2", "active", 1), ("3", "active", 0)]
    assert announced_to(clean_db, search) == [{("jobicy", "2")}]


def remotive_twin(job_id: int = 9001) -> dict:
    """Remotive's copy of the Jobicy job `jobicy(1, "Senior Rust Engineer", "Acme", RUST)`."""
    return {"id": job_id, "url": f"https://remotive.test/{job_id}",
            "title": "Senior Rust Engineer", "company_name": "Acme",
            "candidate_required_location": "Anywhere", "description": RUST}  # fmt: skip


def test_a_twin_joining_a_job_older_than_the_search_is_not_a_new_job(clean_db):
    """A job listed before the search was saved turns up on a second board after it: the
    copy joins the job's cluster, and the job is not news to the search (before, the
    copy was announced as a new job). A search saved before the job arrived heard of it
    once, and hears nothing of the copy."""
    keys = latest_windows(2)
    job = jobicy(1, "Senior Rust Engineer", company="Acme", jobDescription=RUST)
    other = jobicy(2, "Office manager", company="Other")
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        early = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), starts(keys)[0], {"jobicy": [job, other]})
        written = [plan(conn, keys[0])]
        later = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
        twins = {"jobicy": [job, other], "remotive": [remotive_twin()]}
        load_window((conn, read_conn), starts(keys)[1], twins)
        written.append(plan(conn, keys[1]))
    assert clean_db.query(
        "SELECT duplicate_cluster_id FROM public.jobs_listings_data WHERE source = 'remotive'"
    ) == [("jobicy:1",)]
    assert written == [1, 0]
    assert announced_to(clean_db, early) == [{("jobicy", "1")}]
    assert announced_to(clean_db, later) == []


def test_a_search_deleted_while_the_window_is_planned_is_left_out_and_the_others_are_written(
    clean_db,
):
    """Two connections delete searches while the planner works: one deletion commits after
    the planner read the searches, the other was begun before the plan and commits while
    the planner waits for it. Both searches are left out and the third gets its message
    (before, the insert of their deliveries failed the whole window on the foreign key)."""
    (key,) = latest_windows(1)
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        made = {
            name: store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
            for name in ("kept", "deleted_meanwhile", "deleted_by_an_open_transaction")
        }
        load_window((conn, read_conn), starts([key])[0], {"jobicy": [jobicy(1, "Rust dev")]})
    gone = made["deleted_meanwhile"]
    held = made["deleted_by_an_open_transaction"].search.search_id

    def read_then_delete(conn) -> list[store.SavedSearch]:
        found = [s for s in store.all_searches(conn) if s.deliver]
        with clean_db.connect() as other:
            assert store.delete_search(other, gone.search.search_id, gone.token)
        return found

    window = INGESTION_PARTITIONS.time_window_for_partition_key(key)
    outcome: dict[str, object] = {}
    with clean_db.connect() as deleting, clean_db.connect() as conn:
        deleting.execute("DELETE FROM public.jobs_saved_searches WHERE search_id = %s", (held,))

        def run() -> None:
            try:
                outcome["plan"] = plan_window(
                    conn, key, window.start, email_enabled=False, searches=read_then_delete
                )
            except Exception as err:  # the test reports it below
                outcome["error"] = err

        planner = threading.Thread(target=run)
        planner.start()
        pid = conn.info.backend_pid
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and planner.is_alive():
            waiting = clean_db.query(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            )
            if waiting == [("Lock",)]:
                break  # the planner waits for the open deletion
            time.sleep(0.02)
        deleting.commit()
        planner.join(30)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["plan"]
    assert (result.deleted, result.deliveries) == (2, 1)
    assert announced_to(clean_db, made["kept"]) == [{("jobicy", "1")}]
    assert clean_db.query("SELECT count(*) FROM public.jobs_search_deliveries") == [(1,)]


def test_a_backfill_of_old_windows_tells_newer_searches_nothing_though_its_jobs_arrive_later(
    clean_db,
):
    """What `BACKFILL_GRACE` is for, kept beside the arrival rule: a window that ended
    more than a day before the search was saved, loaded (backfilled) after it, brings the
    search nothing, though its listings arrived after the search; the newest window
    loaded after it brings it its jobs."""
    keys = latest_windows(20)
    old, newest = keys[0], keys[-1]
    assert starts([old])[0] + timedelta(hours=4) + BACKFILL_GRACE < datetime.now(UTC)
    with clean_db.connect() as conn, clean_db.connect() as read_conn:
        search = store.create_search(conn, {"q": "rust"}, {"webhook_url": UNCALLED_HOOK})
        load_window((conn, read_conn), starts([old])[0], {"jobicy": [jobicy(1, "Rust dev")]})
        backfilled = plan(conn, old)
        later = {"jobicy": [jobicy(2, "Rust dev", company="Other")]}
        load_window((conn, read_conn), starts([newest])[0], later)
        written = plan(conn, newest)
    assert (backfilled, written) == (0, 1)
    assert announced_to(clean_db, search) == [{("jobicy", "2")}]
