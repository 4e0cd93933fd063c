"""Staged listings -> rows of `public.jobs_listings_data`, a DataFrame at a time.

Pure pandas, no database and no Dagster. Text work is vectorised (pyarrow string
kernels); salary and location strings repeat a lot, so each distinct value is
parsed once and mapped back.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jobs_assets.lib.currency import usd_rate
from jobs_assets.lib.location import Location, locate_names, locate_text
from jobs_assets.lib.salary import (
    Salary,
    is_plausible,
    parse_salary_text,
    render_salary,
    structured_salary,
)

#: the columns `extract_sql` selects from every source, in this order
EXTRACTED = (
    "title",
    "company_name",
    "job_url",
    "company_logo_url",
    "job_type",
    "seniority",
    "category",
    "tags_json",
    "location_text",
    "location_json",
    "salary_text",
    "salary_min",
    "salary_max",
    "salary_period",
    "salary_currency",
    "description_html",
    "published",
    "expires",
)

#: the columns of `public.jobs_listings_data` this module fills, in table order
OUTPUT_COLUMNS = (
    "source",
    "source_job_id",
    "title",
    "company_name",
    "job_url",
    "company_logo_url",
    "job_type",
    "seniority",
    "category",
    "tags",
    "location_raw",
    "countries",
    "regions",
    "region",
    "salary_raw",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "salary_min_usd",
    "salary_max_usd",
    "salary_usd_rate_date",
    "description_text",
    "published_at",
    "expires_at",
    "retrieved_at",
)

JOB_TYPES = (
    "full_time",
    "part_time",
    "contract",
    "freelance",
    "internship",
    "temporary",
    "volunteer",
    "other",
)
SENIORITIES = ("entry", "mid", "senior", "manager", "director", "executive")

_JOB_TYPE_WORDS = {
    "fulltime": "full_time",
    "full_time": "full_time",
    "permanent": "full_time",
    "parttime": "part_time",
    "part_time": "part_time",
    "contract": "contract",
    "contractor": "contract",
    "contract_to_hire": "contract",
    "freelance": "freelance",
    "freelancer": "freelance",
    "internship": "internship",
    "intern": "internship",
    "temporary": "temporary",
    "temp": "temporary",
    "seasonal": "temporary",
    "volunteer": "volunteer",
    "volunteering": "volunteer",
}
_SENIORITY_WORDS = {
    "entry": "entry",
    "entry_level": "entry",
    "junior": "entry",
    "intern": "entry",
    "graduate": "entry",
    "mid": "mid",
    "mid_level": "mid",
    "midweight": "mid",
    "middle": "mid",
    "intermediate": "mid",
    "senior": "senior",
    "senior_level": "senior",
    "lead": "senior",
    "principal": "senior",
    "staff": "senior",
    "manager": "manager",
    "management": "manager",
    "director": "director",
    "executive": "executive",
    "vp": "executive",
    "c_level": "executive",
    "chief": "executive",
}

# HTML to text with RE2 patterns (pyarrow kernels): no back-references.
_HTML_DROP = r"(?is)<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<img\b[^>]*>"
_HTML_BREAK = (
    r"(?i)<br\s*/?>|</?(?:p|div|li|ul|ol|h[1-6]|tr|table|section|article|blockquote)\b[^>]*>"
)
_HTML_TAG = r"<[^>]*>"
MAX_DESCRIPTION_CHARS = 100_000


@dataclass
class ParseReport:
    """What the parsers could not read, for the operator to teach them next."""

    listings: int = 0
    with_salary: int = 0
    salary_parsed: int = 0
    salary_unparsed: int = 0
    salary_implausible: int = 0
    regions: Counter = field(default_factory=Counter)
    unparsed_salaries: Counter = field(default_factory=Counter)
    unknown_locations: Counter = field(default_factory=Counter)

    def merge(self, other: ParseReport) -> None:
        for name in ("listings", "with_salary", "salary_parsed", "salary_unparsed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.salary_implausible += other.salary_implausible
        self.regions.update(other.regions)
        self.unparsed_salaries.update(other.unparsed_salaries)
        self.unknown_locations.update(other.unknown_locations)

    def as_metadata(self) -> dict[str, object]:
        return {
            "listings_with_salary": self.with_salary,
            "salaries_parsed": self.salary_parsed,
            "salaries_unparsed": self.salary_unparsed,
            "salaries_implausible": self.salary_implausible,
            "listings_per_region": dict(self.regions.most_common()),
            "top_unparsed_salaries": dict(self.unparsed_salaries.most_common(20)),
            "top_unknown_location_tokens": dict(self.unknown_locations.most_common(20)),
        }


def map_distinct(values: pd.Series, parse: Callable[[Hashable], object]) -> list:
    """`parse` applied once per distinct value, mapped back onto every row."""
    cache: dict = {}
    out = []
    for value in values.tolist():
        key = None if _is_missing(value) else value
        try:
            out.append(cache[key])
        except KeyError:
            cache[key] = result = parse(key)
            out.append(result)
    return out


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def clean_text(values: pd.Series) -> pd.Series:
    """Trim and decode HTML entities (Jobicy text can be escaped twice)."""
    return pd.Series(
        map_distinct(values, lambda v: None if v is None else _unescape(str(v)).strip() or None),
        index=values.index,
        dtype="object",
    )


def _unescape(text: str) -> str:
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    return text


def html_to_text(values: pd.Series) -> pd.Series:
    """Plain text of HTML descriptions: scripts, styles and tracking pixels dropped."""
    text = values.astype("str")
    text = text.str.replace(_HTML_DROP, "", regex=True)
    text = text.str.replace(_HTML_BREAK, "\n", regex=True)
    text = text.str.replace(_HTML_TAG, "", regex=True)
    decoded = [None if _is_missing(v) else _unescape(v) for v in text.tolist()]
    text = pd.Series(decoded, index=values.index, dtype="str")
    text = text.str.replace(r"[ \t\r\f\v\xa0]+", " ", regex=True)
    text = text.str.replace(r" ?\n[ \n]*", "\n", regex=True).str.strip()
    text = text.str.slice(0, MAX_DESCRIPTION_CHARS)
    keep = values.notna() & text.notna() & (text.str.len() > 0)
    return text.astype("object").where(keep, None)


def _vocabulary(words: dict[str, str], other: str | None) -> Callable[[Hashable], str | None]:
    def lookup(value: Hashable) -> str | None:
        if value is None:
            return None
        key = "_".join(str(value).strip().lower().replace("-", " ").replace("/", " ").split())
        if not key or key in ("any", "none", "n_a", "false", "null"):
            return None
        if key in words:
            return words[key]
        squeezed = key.replace("_", "")
        return words.get(squeezed, other)

    return lookup


job_type_of = _vocabulary(_JOB_TYPE_WORDS, other="other")
seniority_of = _vocabulary(_SENIORITY_WORDS, other=None)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Unix seconds or milliseconds (>= 1e12), or ISO text (naive means UTC)."""
    numbers = pd.to_numeric(values, errors="coerce")
    seconds = numbers.where(numbers < 1e12, numbers / 1000)
    from_numbers = pd.to_datetime(seconds, unit="s", utc=True, errors="coerce")
    from_text = pd.to_datetime(
        values.where(numbers.isna()).astype("object"), utc=True, format="ISO8601", errors="coerce"
    )
    return from_numbers.fillna(from_text)


def _string_list(raw: Hashable) -> list[str]:
    """A JSON list (or a single value) of tags as trimmed non-empty strings."""
    if raw is None:
        return []
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        value = raw
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item is None or isinstance(item, (dict, list)):
            continue
        text = _unescape(str(item)).strip()
        if text and text not in out:
            out.append(text)
    return out


def _location_names(raw: Hashable) -> tuple[list, str]:
    """Himalayas `locationRestrictions` as a list and as `location_raw` text."""
    try:
        items = json.loads(raw) if raw is not None else []
    except ValueError:
        items = []
    items = items if isinstance(items, list) else []
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return items, ", ".join(names)


def _locations(frame: pd.DataFrame) -> tuple[list[Location], list[str | None]]:
    text_loc = map_distinct(frame["location_text"], lambda v: locate_text(v))
    json_loc = map_distinct(
        frame["location_json"],
        lambda v: (
            None if v is None else (locate_names(_location_names(v)[0]), _location_names(v)[1])
        ),
    )
    locations, raw = [], []
    for text_value, from_text, from_json in zip(
        frame["location_text"].tolist(), text_loc, json_loc, strict=True
    ):
        if from_json is not None:
            locations.append(from_json[0])
            raw.append(from_json[1])
        else:
            locations.append(from_text)
            raw.append(None if _is_missing(text_value) else str(text_value).strip() or None)
    return locations, raw


def _salaries(frame: pd.DataFrame) -> tuple[list[Salary], list[str | None]]:
    """Parsed salaries and `salary_raw`: Remotive's text, else a rendering of the fields."""
    structured_cols = ["salary_min", "salary_max", "salary_period", "salary_currency"]
    keys = pd.Series(
        list(zip(*(frame[c].tolist() for c in structured_cols), strict=True)), index=frame.index
    )
    from_fields = map_distinct(keys, lambda k: structured_salary(*k) if k else None)
    from_text = map_distinct(frame["salary_text"], parse_salary_text)
    rendered = map_distinct(keys, lambda k: render_salary(k[0], k[1], k[3], k[2]) if k else None)
    salaries, raw = [], []
    for text_value, text_salary, field_salary, field_raw in zip(
        frame["salary_text"].tolist(), from_text, from_fields, rendered, strict=True
    ):
        if not _is_missing(text_value):
            salaries.append(text_salary)
            raw.append(str(text_value).strip() or None)
        else:
            salaries.append(field_salary)
            raw.append(field_raw)
    return salaries, raw


def normalise(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, ParseReport]:
    """Rows for `jobs_listings_data` from extracted staged columns (see `EXTRACTED`)."""
    frame = frame.astype({c: "object" for c in EXTRACTED}).where(frame.notna(), None)
    out = pd.DataFrame(index=frame.index)
    out["source"] = source
    out["source_job_id"] = frame["source_job_id"]
    out["title"] = clean_text(frame["title"])
    out["company_name"] = clean_text(frame["company_name"])
    out["job_url"] = frame["job_url"].map(_url)
    out["company_logo_url"] = frame["company_logo_url"].map(_url)
    out["job_type"] = map_distinct(frame["job_type"], job_type_of)
    out["seniority"] = map_distinct(frame["seniority"], seniority_of)
    out["category"] = clean_text(frame["category"])
    out["tags"] = map_distinct(frame["tags_json"], _string_list)

    locations, location_raw = _locations(frame)
    out["location_raw"] = location_raw
    out["countries"] = [list(loc.countries) for loc in locations]
    out["regions"] = [list(loc.regions) for loc in locations]
    out["region"] = [loc.region for loc in locations]

    salaries, salary_raw = _salaries(frame)
    out["salary_raw"] = salary_raw
    out["salary_min"] = [s.min if s else None for s in salaries]
    out["salary_max"] = [s.max if s else None for s in salaries]
    out["salary_currency"] = [s.currency if s else None for s in salaries]
    out["salary_period"] = [s.period if s else None for s in salaries]
    rates = map_distinct(out["salary_currency"], usd_rate)
    out["salary_min_usd"] = [_times(a, r) for a, r in zip(out["salary_min"], rates, strict=True)]
    out["salary_max_usd"] = [_times(a, r) for a, r in zip(out["salary_max"], rates, strict=True)]
    out["salary_usd_rate_date"] = [r[1] if r else None for r in rates]
    plausible = [
        is_plausible(lo, hi)
        for lo, hi in zip(out["salary_min_usd"], out["salary_max_usd"], strict=True)
    ]
    implausible = ~pd.Series(plausible, index=out.index)
    for column in ("salary_min", "salary_max", "salary_min_usd", "salary_max_usd"):
        out[column] = out[column].astype("object").where(~implausible, None)

    out["description_text"] = html_to_text(frame["description_html"])
    out["published_at"] = parse_timestamps(frame["published"])
    out["expires_at"] = parse_timestamps(frame["expires"])
    out["retrieved_at"] = frame["retrieved_at"]

    report = ParseReport(listings=len(out))
    has_salary = pd.Series([r is not None for r in salary_raw], index=out.index)
    parsed = pd.Series([bool(s and s.parsed) for s in salaries], index=out.index)
    report.with_salary = int(has_salary.sum())
    report.salary_parsed = int((parsed & ~implausible).sum())
    report.salary_unparsed = int((has_salary & ~parsed).sum())
    report.salary_implausible = int(implausible.sum())
    report.regions.update(out["region"].tolist())
    report.unparsed_salaries.update(out["salary_raw"][has_salary & ~parsed].tolist())
    for loc in locations:
        report.unknown_locations.update(loc.unknown_tokens)
    return out[list(OUTPUT_COLUMNS)], report


def _times(amount: float | None, rate: tuple | None) -> float | None:
    if amount is None or rate is None:
        return None
    return round(float(amount) * rate[0], 2)


def _url(value: object) -> str | None:
    if _is_missing(value):
        return None
    text = str(value).strip()
    return text if text.lower().startswith(("http://", "https://")) else None


def as_rows(frame: pd.DataFrame) -> Iterable[tuple]:
    """Rows ready for COPY: NaN/NaT become None."""
    clean = frame.astype("object").where(frame.notna(), None)
    return clean.itertuples(index=False, name=None)
