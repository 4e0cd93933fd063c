"""The shared HTTP policy against a real local server: retries, timeouts, paging."""

from __future__ import annotations

import email.utils
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from jobs_assets.lib.sources import SOURCES, parse_window
from jobs_assets.lib.sources.base import Page
from jobs_assets.lib.sources.http import (
    USER_AGENT,
    FetchBudget,
    FetchError,
    HttpClient,
    retry_after_seconds,
)
from jobs_assets.replay import ReplayServer, Reply
from jobs_assets.settings import SourceSettings
from jobs_assets_tests.faults import (
    FaultServer,
    corrupt_gzip,
    redirect_to,
    short_body,
    trickle,
    truncated_chunked,
)


def client(**overrides: object) -> HttpClient:
    settings = {"timeout_seconds": 1.0, "max_retries": 3, "backoff_seconds": 0.01, **overrides}
    return HttpClient(**settings)


def settings_for(server: ReplayServer, name: str, **overrides: object) -> SourceSettings:
    values = {
        "name": name,
        "url": server.url(name),
        "min_interval_hours": 0.0,
        "workers": 4,
        "max_rps": 0.0,
        "max_pages": 50,
        "timeout_seconds": 1.0,
        "max_retries": 3,
        "backoff_seconds": 0.01,
        **overrides,
    }
    return SourceSettings(**values)


def test_429_with_retry_after_is_retried_then_succeeds(replay: ReplayServer) -> None:
    replay.script("/remotive", Reply(429, b"slow down", {"Retry-After": "1"}))
    with client() as http:
        response = http.get(replay.url("remotive"))
    assert response.status_code == 200
    assert http.stats.retries == 1 and http.stats.requests == 2
    first, second = replay.requests[-2:]
    assert second.at - first.at >= 0.9  # Retry-After honoured


def test_5xx_exhausting_retries_gives_the_last_status(replay: ReplayServer) -> None:
    replay.script("/remotive", *[Reply(503, b"down")] * 4)
    with client(max_retries=3) as http:
        response = http.get(replay.url("remotive"))
    assert response.status_code == 503
    assert http.stats.retries == 3


def test_read_timeout_is_retried(replay: ReplayServer) -> None:
    replay.script("/jobicy", Reply(200, b"{}", delay=1.5))
    with client(timeout_seconds=0.5) as http:
        response = http.get(replay.url("jobicy"))
    assert response.status_code == 200 and json.loads(response.content)["jobs"]
    assert len([r for r in replay.requests if r.path == "/jobicy"]) == 2


def test_read_timeouts_every_time_give_a_clear_error(replay: ReplayServer) -> None:
    replay.script("/jobicy", *[Reply(200, b"{}", delay=1.0)] * 3)
    with client(timeout_seconds=0.3, max_retries=2) as http, pytest.raises(FetchError) as err:
        http.get(replay.url("jobicy"))
    assert "failed after retries" in str(err.value) and "/jobicy" in str(err.value)


def test_connection_refused_gives_a_clear_error() -> None:
    with client(max_retries=1) as http, pytest.raises(FetchError) as err:
        http.get("http://127.0.0.1:9/remotive")
    assert "make demo" in str(err.value)


def test_a_host_that_does_not_resolve_fails_at_once_without_retries() -> None:
    """Offline (or a typo in the host): no 20 retries over minutes, and no step retry."""
    started = time.monotonic()
    with client(max_retries=5, backoff_seconds=10.0) as http, pytest.raises(FetchError) as err:
        http.get("https://jobs-assets-test.invalid/remote-jobs")  # RFC 2606: never resolves
    assert time.monotonic() - started < 10.0
    assert err.value.retryable is False and http.stats.requests == 1
    assert "does not resolve" in str(err.value) and "make demo" in str(err.value)


def test_identifying_user_agent_is_sent(replay: ReplayServer) -> None:
    with client() as http:
        http.get(replay.url("remotive"))
    assert replay.requests[-1].headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("jobs_assets/")


def test_rate_limit_spaces_requests_across_threads(replay: ReplayServer) -> None:
    pages: list[int] = []
    feed = {"jobs": [{"guid": "a"}], "totalCount": 100, "offset": 0, "limit": 20}
    replay.script("/himalayas", *[Reply.json(feed)] * 5)  # five pages to ask for
    settings = settings_for(replay, "himalayas", max_pages=5, max_rps=10.0, workers=4)
    with client(max_rps=10.0) as http:
        SOURCES["himalayas"].fetch(http, settings, lambda p: pages.append(p.index))
    times = sorted(r.at for r in replay.requests)
    assert sorted(pages) == [0, 1, 2, 3, 4]
    # 10 rps puts the five starts 0.1 s apart, 0.4 s from first to last; unthrottled,
    # four workers send them within a few milliseconds. The server sees arrivals, which
    # a busy machine delays unevenly, so one gap can shrink: judge the span, with slack.
    assert times[-1] - times[0] >= 0.3


def test_himalayas_reads_only_the_newest_max_pages(replay: ReplayServer) -> None:
    pages: list[int] = []
    settings = settings_for(replay, "himalayas", max_pages=3)
    with client() as http:
        SOURCES["himalayas"].fetch(http, settings, lambda p: pages.append(p.index))
    offsets = sorted(int(r.params["offset"]) for r in replay.requests)
    assert offsets == [0, 20, 40]
    assert all(r.params["limit"] == "20" for r in replay.requests)
    assert sorted(pages) == [0, 1, 2]


def test_himalayas_stops_at_the_total_count(replay: ReplayServer) -> None:
    replay.script(
        "/himalayas",
        Reply.json({"jobs": [{"guid": "a"}], "totalCount": 41, "offset": 0, "limit": 20}),
    )
    with client() as http:
        SOURCES["himalayas"].fetch(http, settings_for(replay, "himalayas"), lambda p: None)
    assert sorted(int(r.params["offset"]) for r in replay.requests) == [0, 20, 40]


def test_jobicy_follows_the_cursor_until_has_more_is_false(replay: ReplayServer) -> None:
    replay.script(
        "/jobicy",
        Reply.json({"jobs": [{"id": 1}], "hasMore": True, "nextCursor": "c1"}),
        Reply.json({"jobs": [{"id": 2}], "hasMore": True, "nextCursor": "c2"}),
        Reply.json({"jobs": [{"id": 3}], "hasMore": False, "nextCursor": None}),
    )
    pages = []
    with client() as http:
        SOURCES["jobicy"].fetch(http, settings_for(replay, "jobicy"), pages.append)
    assert [r.params for r in replay.requests] == [
        {"count": "100"},
        {"count": "100", "cursor": "c1"},
        {"count": "100", "cursor": "c2"},
    ]
    assert len(pages) == 3


def test_jobicy_older_format_is_one_page(replay: ReplayServer) -> None:
    with client() as http:
        SOURCES["jobicy"].fetch(http, settings_for(replay, "jobicy"), lambda p: None)
    assert len(replay.requests) == 1


def test_jobicy_404_json_is_kept_and_not_an_error(replay: ReplayServer) -> None:
    replay.script("/jobicy", Reply.json({"message": "no jobs"}, status=404))
    kept = []
    with client() as http:
        SOURCES["jobicy"].fetch(http, settings_for(replay, "jobicy"), kept.append)
    assert [p.status for p in kept] == [404]


def test_http_error_keeps_the_body_before_failing(replay: ReplayServer) -> None:
    replay.script("/remotive", Reply(403, b"<html>forbidden</html>", {"Content-Type": "text/html"}))
    kept = []
    with client() as http, pytest.raises(FetchError) as err:
        SOURCES["remotive"].fetch(http, settings_for(replay, "remotive"), kept.append)
    assert "HTTP 403" in str(err.value)
    assert kept[0].body == b"<html>forbidden</html>"


# --- Faults: no request can hang a run, and every failure speaks plainly ------------


def test_trickling_body_fails_at_the_total_deadline() -> None:
    with FaultServer({"/slow": trickle(b'{"jobs": []}' * 10, every=0.3)}) as server:
        started = time.monotonic()
        with (
            client(timeout_seconds=1.0, total_timeout_seconds=1.5, max_retries=2) as http,
            pytest.raises(FetchError) as err,
        ):
            http.source = "jobicy"
            http.get(server.url("/slow"))
        took = time.monotonic() - started
    assert 1.4 <= took < 3.0  # one attempt, stopped at its deadline (no retry of a deadline)
    message = str(err.value)
    assert message.startswith("jobicy: GET ") and "/slow" in message
    assert "did not finish within 1.5 s (JOBS_HTTP_TOTAL_TIMEOUT_SECONDS)" in message
    assert err.value.partial and b'{"jobs": []}'.startswith(err.value.partial[:12])


def test_retry_after_beyond_the_cap_fails_at_once_saying_what_was_asked(
    replay: ReplayServer,
) -> None:
    replay.script("/remotive", Reply(429, b"come back tomorrow", {"Retry-After": "3600"}))
    started = time.monotonic()
    with client(max_retry_after_seconds=300) as http, pytest.raises(FetchError) as err:
        http.source = "remotive"
        http.get(replay.url("remotive"))
    assert time.monotonic() - started < 1.0
    message = str(err.value)
    assert "remotive: GET " in message and "/remotive" in message
    assert "HTTP 429" in message and "Retry-After: 3600" in message
    assert "JOBS_HTTP_MAX_RETRY_AFTER_SECONDS=300" in message
    assert err.value.partial == b"come back tomorrow" and not err.value.retryable


def test_retry_after_as_an_http_date_is_honoured(replay: ReplayServer) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    replay.script("/remotive", Reply(503, b"busy", {"Retry-After": when}))
    with client() as http:
        response = http.get(replay.url("remotive"))
    assert response.status_code == 200
    first, second = replay.requests[-2:]
    assert second.at - first.at >= 0.9  # waited until the date (whole seconds in the header)


def test_retry_after_http_date_beyond_the_cap_fails(replay: ReplayServer) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    replay.script("/remotive", Reply(503, b"maintenance", {"Retry-After": when}))
    with client(max_retry_after_seconds=60) as http, pytest.raises(FetchError) as err:
        http.get(replay.url("remotive"))
    assert f"Retry-After: {when}" in str(err.value) and "not waiting" in str(err.value)


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert retry_after_seconds("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_redirect_loop_stops_with_a_clear_error() -> None:
    with FaultServer({"/a": redirect_to("/b"), "/b": redirect_to("/a")}) as server:
        with client() as http, pytest.raises(FetchError) as err:
            http.get(server.url("/a"))
        assert server.hits["/a"] + server.hits["/b"] <= 12
    assert "redirect loop" in str(err.value) and "/a" in str(err.value)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (truncated_chunked(b'{"jobs": ['), "the body was cut short"),
        (short_body(b'{"jobs": []', declared=500), "the body was cut short"),
        (corrupt_gzip, "the body's compression is corrupt"),
    ],
    ids=["truncated-chunked", "short-content-length", "corrupt-gzip"],
)
def test_broken_bodies_are_retried_then_fail_in_plain_words(fault: object, expected: str) -> None:
    with FaultServer({"/broken": fault}) as server:
        with client(max_retries=2) as http, pytest.raises(FetchError) as err:
            http.source = "himalayas"
            http.get(server.url("/broken"))
        assert server.hits["/broken"] == 3
    message = str(err.value)
    assert message.startswith("himalayas: GET ") and expected in message
    assert "failed after retries (3 attempts)" in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_fetch_budget_stops_a_source_that_takes_too_long(replay: ReplayServer) -> None:
    replay.script("/jobicy", Reply(503, b"busy", {"Retry-After": "2"}))
    with (
        client(budget=FetchBudget(1.0)) as http,
        pytest.raises(FetchError, match="JOBS_FETCH_BUDGET_SECONDS=1"),
    ):
        http.get(replay.url("jobicy"))


def test_secrets_in_the_url_never_reach_the_error() -> None:
    with FaultServer({"/broken": corrupt_gzip}) as server:
        url = server.url("/broken").replace("http://", "http://me:hunter2@") + "?api_key=s3cr3t"
        with client(max_retries=0) as http, pytest.raises(FetchError) as err:
            http.get(url, params={"token": "t0k3n"})
    message = str(err.value)
    assert "hunter2" not in message and "s3cr3t" not in message and "t0k3n" not in message
    assert "me:***@" in message and "api_key=***" in message and "token=***" in message


def test_arbeitnow_follows_pages_until_links_next_is_null(replay: ReplayServer) -> None:
    """The replay server serves the recorded page split in two, linked by `links.next`."""
    pages: list = []
    with client() as http:
        SOURCES["arbeitnow"].fetch(http, settings_for(replay, "arbeitnow"), pages.append)
    asked = [r.params for r in replay.requests if r.path == "/arbeitnow"]
    assert asked == [{"page": "1"}, {"page": "2"}]
    window = parse_window(SOURCES["arbeitnow"], pages)
    first, second = (json.loads(p.body) for p in pages)
    assert first["links"]["next"].endswith("/arbeitnow?page=2") and second["links"]["next"] is None
    assert window.pages == 2 and window.parsed == 100 and window.duplicates == 0


def test_arbeitnow_stops_at_max_pages_and_at_an_empty_page_saying_paging_was_cut(
    replay: ReplayServer,
) -> None:
    endless = {"data": [{"slug": "a-1"}], "links": {"next": "http://x/?page=9"}, "meta": {}}
    replay.script("/arbeitnow", *[Reply.json(endless)] * 3)
    with client() as http:
        reason = SOURCES["arbeitnow"].fetch(
            http, settings_for(replay, "arbeitnow", max_pages=3), lambda p: None
        )
    assert len([r for r in replay.requests if r.path == "/arbeitnow"]) == 3
    assert reason == "links.next was still set after 3 pages (the page limit): paging stopped"

    replay.script("/arbeitnow", Reply.json({**endless, "data": []}))
    with client() as http:
        reason = SOURCES["arbeitnow"].fetch(http, settings_for(replay, "arbeitnow"), lambda p: None)
    assert len([r for r in replay.requests if r.path == "/arbeitnow"]) == 4
    assert reason == "page 1 holds no listing but links.next names another: paging stopped"


def arbeitnow_page(slugs: list[str], start: int, per_page: int, last: bool) -> dict:
    """A page as Arbeitnow's paginator writes it: positions `from`..`to`, `per_page`."""
    data = [
        {"slug": s, "title": s, "company_name": "Acme", "url": f"https://a.test/{s}"} for s in slugs
    ]
    meta = {"from": start, "to": start + len(slugs) - 1, "per_page": per_page}
    return {"data": data, "links": {"next": None if last else "http://x/?page=2"}, "meta": meta}


@pytest.mark.parametrize(
    ("pages", "short"),
    [
        ([(["a", "b"], 1, 2, False), (["c"], 3, 2, True)], None),  # full, then the last
        ([(["a"], 1, 2, False), (["c"], 3, 2, True)], "stated 2 listings"),  # not full, a next
        ([(["a", "a"], 1, 2, True)], "1 arrived (in 2 entries)"),  # one listing sent twice
    ],
)
def test_arbeitnow_pages_with_a_next_are_full_and_each_states_what_it_holds(
    pages: list, short: str | None
) -> None:
    bodies = [arbeitnow_page(*page) for page in pages]
    stamp = datetime.now(UTC)
    window = parse_window(
        SOURCES["arbeitnow"],
        [Page(i, "u", 200, "", json.dumps(b).encode(), stamp) for i, b in enumerate(bodies)],
    )
    if short is None:
        assert window.short_answers == []
    else:
        assert len(window.short_answers) == 1 and short in window.short_answers[0]


def test_jobicy_404_on_a_later_page_is_an_error_not_the_end(replay: ReplayServer) -> None:
    replay.script(
        "/jobicy",
        Reply.json({"jobs": [{"id": 1}], "hasMore": True, "nextCursor": "c1"}),
        Reply.json({"success": False, "message": "Too many requests"}, status=404),
    )
    kept: list = []
    with client() as http, pytest.raises(FetchError) as err:
        SOURCES["jobicy"].fetch(http, settings_for(replay, "jobicy"), kept.append)
    assert "HTTP 404" in str(err.value) and [p.status for p in kept] == [200, 404]
    assert SOURCES["jobicy"].parse(kept[1].body, 404, 1).error  # never read as "no jobs"


@pytest.mark.parametrize(
    ("has_more", "cursor", "expected"),
    [
        (True, None, "hasMore is true at page 0 but nextCursor is None"),
        ("true", "", "hasMore is true at page 0 but nextCursor is ''"),
        (False, "c1", None),
    ],
)
def test_jobicy_has_more_without_a_cursor_is_a_cut_not_the_end(
    replay: ReplayServer, has_more: object, cursor: object, expected: str | None
) -> None:
    replay.script(
        "/jobicy", Reply.json({"jobs": [{"id": 1}], "hasMore": has_more, "nextCursor": cursor})
    )
    with client() as http:
        reason = SOURCES["jobicy"].fetch(http, settings_for(replay, "jobicy"), lambda p: None)
    assert reason == (expected and f"{expected}: the next page cannot be asked for, paging stopped")


def test_jobicy_has_more_written_as_text_is_followed(replay: ReplayServer) -> None:
    replay.script(
        "/jobicy",
        Reply.json({"jobs": [{"id": 1}], "hasMore": "true", "nextCursor": "c1"}),
        Reply.json({"jobs": [{"id": 2}], "hasMore": "false", "nextCursor": None}),
    )
    with client() as http:
        reason = SOURCES["jobicy"].fetch(http, settings_for(replay, "jobicy"), lambda p: None)
    assert reason is None and len(replay.requests) == 2


@pytest.mark.parametrize(
    "first",
    [
        {"hasMore": 1.0, "nextCursor": "c1"},  # a number with a point
        {"nextCursor": "c1"},  # hasMore left out: the cursor names the next page
        {"hasMore": None, "nextCursor": "c1"},
    ],
)
def test_jobicy_follows_a_cursor_however_has_more_is_written(
    replay: ReplayServer, first: dict
) -> None:
    replay.script(
        "/jobicy",
        Reply.json({"jobs": [{"id": 1}], **first}),
        Reply.json({"jobs": [{"id": 2}], "hasMore": False, "nextCursor": None}),
    )
    with client() as http:
        reason = SOURCES["jobicy"].fetch(http, settings_for(replay, "jobicy"), lambda p: None)
    assert reason is None and len(replay.requests) == 2


def test_remoteok_is_one_request(replay: ReplayServer) -> None:
    kept: list = []
    with client() as http:
        SOURCES["remoteok"].fetch(http, settings_for(replay, "remoteok"), kept.append)
    assert len(kept) == 1 and len(SOURCES["remoteok"].parse(kept[0].body).records) == 96
