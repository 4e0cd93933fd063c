"""One record can never sink a window: the parsers on hostile bodies, with hypothesis."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs_assets.lib.sources import SOURCES, Source
from jobs_assets.lib.sources.records import MAX_DEPTH, collapse_deep, fix_escapes

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def good_listing(source: Source, job_id: str) -> dict:
    """The smallest listing each source must keep: an id and the required fields."""
    values = {"title": "Data Engineer", "company": "Acme", "url": f"https://jobs.test/{job_id}"}
    return {source.id_field: job_id, **{key: values[m] for m, key in source.required.items()}}


def body(jobs: list[str], source: Source | None = None) -> bytes:
    """A page whose listings are raw JSON texts (so they can be anything at all), in the
    envelope `source` serves: an object holding the list, or a bare array after a notice."""
    listings = ", ".join(jobs)
    key = source.jobs_key if source is not None else "jobs"
    if source is not None and source.records_in({key: []}) is None:  # a bare array
        return ('[{"legal": "API terms"}, ' + listings + "]").encode()
    return ('{"totalCount": 1, "' + key + '": [' + listings + "]}").encode()


@pytest.mark.parametrize("name", list(SOURCES))
def test_each_poison_is_cleaned_or_rejected_and_the_rest_kept(name: str) -> None:
    source = SOURCES[name]
    required = source.required
    good = good_listing(source, "good")

    def variant(job_id: str, **changes: object) -> dict:
        return {**good_listing(source, job_id), **changes}

    poisoned = [
        json.dumps(good),
        # cleaned, kept
        json.dumps(variant("nan", salary=0)).replace("0}", "NaN}"),
        json.dumps(variant("inf", salary=0)).replace("0}", "Infinity}"),
        json.dumps(variant("big", salary=0)).replace("0}", "1e400}"),
        json.dumps(variant("digits", salary=0)).replace("0}", "9" * 5000 + "}"),
        json.dumps(variant("surrogate", note="x")).replace('"x"', '"a\\ud800b"'),
        json.dumps(variant("nul", note="x")).replace('"x"', '"a\\u0000b"'),
        json.dumps(variant("backslash", note="x")).replace('"x"', '"C:\\\\u0000dir"'),
        # rejected, with a reason
        json.dumps(variant("deep", extra=0)).replace("0}", "[" * 5000 + "]" * 5000 + "}"),
        json.dumps(variant("null-title", **{required["title"]: None})),
        json.dumps(variant("blank-url", **{required["url"]: "  "})),
        json.dumps(variant("na-company", **{required["company"]: "n/A"})),
        json.dumps(variant("tbd-title", **{required["title"]: "TBD"})),
        json.dumps(variant("dash-company", **{required["company"]: "-"})),
    ]
    parsed = source.parse(body(poisoned, source))
    assert parsed.error is None
    kept = dict(parsed.records)
    assert sorted(kept) == sorted(
        ["good", "nan", "inf", "big", "digits", "surrogate", "nul", "backslash"]
    )
    assert kept["nan"]["salary"] is None and kept["big"]["salary"] is None
    assert kept["digits"]["salary"] is None
    assert kept["surrogate"]["note"] == "a\ufffdb"
    assert kept["nul"]["note"] == "ab"
    assert kept["backslash"]["note"] == "C:\\u0000dir"  # text, not a NUL: left alone
    reasons = " | ".join(r.reason for r in parsed.rejects)
    assert f"nested more than {MAX_DEPTH} levels deep" in reasons
    for rule in ("no title", "no url", "no company", "placeholder 'n/A'", "placeholder 'TBD'"):
        assert rule in reasons
    assert "non-finite or out-of-range number" in reasons and "surrogates replaced" in reasons
    assert "NUL characters removed" in reasons


def test_invalid_escapes_and_bad_utf8_are_replaced_not_fatal() -> None:
    source = SOURCES["remotive"]
    job = json.dumps(good_listing(source, "1") | {"note": "x"})
    page = body([job.replace('"x"', '"a\\x41\\u12b"')]).replace(b"Acme", b"Ac\xffme")
    parsed = source.parse(page)
    assert parsed.error is None
    (_, payload), *_ = parsed.records
    assert payload["note"] == "a\ufffdx41\ufffdu12b" and payload["company_name"] == "Ac\ufffdme"
    assert any("invalid escapes replaced" in r.reason for r in parsed.rejects)


def test_escape_repair_respects_escaped_backslashes() -> None:
    assert fix_escapes('"a\\\\x"') == ('"a\\\\x"', False)  # `\\` then `x`: valid
    assert fix_escapes('"a\\\\\\x"') == ('"a\\\\\\ufffdx"', True)


def test_collapse_keeps_brackets_inside_strings() -> None:
    text = '{"a": "[[[[", "b": ' + "[" * 10 + "]" * 10 + "}"
    collapsed = json.loads(collapse_deep(text, limit=3))
    assert collapsed["a"] == "[[[[" and isinstance(collapsed["b"][0][0], str)


# --- Properties ------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _dumps(value: object) -> str:
    return json.dumps(value, allow_nan=True)


@pytest.mark.parametrize("name", list(SOURCES))
@FAST
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(name: str, data: bytes) -> None:
    parsed = SOURCES[name].parse(data)
    assert parsed.error is not None or isinstance(parsed.records, list)


@pytest.mark.parametrize("name", list(SOURCES))
@FAST
@given(document=JSON)
def test_arbitrary_documents_never_raise(name: str, document: object) -> None:
    parsed = SOURCES[name].parse(_dumps(document).encode())
    for _, payload in parsed.records:
        json.dumps(payload, allow_nan=False).encode("utf-8")  # what COPY will need


@pytest.mark.parametrize("name", list(SOURCES))
@FAST
@given(noise=st.lists(JSON, max_size=6), extra=st.dictionaries(st.text(max_size=8), JSON))
def test_a_well_formed_listing_is_never_dropped(name: str, noise: list, extra: dict) -> None:
    source = SOURCES[name]
    good = {**extra, **good_listing(source, "the-good-one")}
    jobs = [_dumps(v) for v in noise] + [json.dumps(good)]
    parsed = source.parse(body(jobs, source))
    assert parsed.error is None
    ids = [job_id for job_id, _ in parsed.records]
    assert "the-good-one" in ids
    payload = dict(parsed.records)["the-good-one"]
    json.dumps(payload, allow_nan=False).encode("utf-8")
