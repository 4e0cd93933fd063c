"""A saved search's Atom 1.0 feed (RFC 4287), built with the standard library.

One entry per job: the canonical listing of its duplicate cluster, with the other boards
that list the same job as `related` links. Ids are `urn:uuid:` names derived from the
cluster (or listing) key, so an entry keeps its id across loads and hosts, and a job
seen again on a second board is not a new entry. Each entry credits the board it comes
from and links back to the job's page there, as the boards' terms ask.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html import escape
from xml.etree import ElementTree as ET

from jobs_assets.lib.sources import SOURCES

ATOM = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
#: the namespace of the entries' and feeds' UUIDs (a fixed, random UUID: never change it)
NAMESPACE = uuid.UUID("6f1d3a52-8c1e-4f0b-9d61-2a7e3c9b5e14")

ET.register_namespace("", ATOM)

#: what XML 1.0 forbids even escaped (most C0 controls, lone surrogates, U+FFFE/U+FFFF):
#: a board's text holding one would make the whole feed unreadable
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def entry_id(job_key: str) -> str:
    """The stable id of a job (its duplicate cluster id, else `source:source_job_id`)."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, 'job:' + job_key)}"


def feed_id(search_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, 'search:' + search_id)}"


def board(source: str) -> tuple[str, str | None]:
    """A source's display name and home page."""
    found = SOURCES.get(source)
    name = getattr(found, "display_name", None) or source.capitalize()
    return name, getattr(found, "home_url", None)


def _stamp(value: str | datetime | None) -> str:
    if value is None:
        value = datetime.now(UTC)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _money(value: float | None) -> str | None:
    return None if value is None else f"${round(value):,}"


def salary_text(salary: Mapping) -> str | None:
    """ "$90,000–$120,000 a year (USD)", or the source's own words, or None."""
    low, high = _money(salary.get("min_usd_annual")), _money(salary.get("max_usd_annual"))
    band = "–".join(x for x in (low, high) if x)
    if band:
        quoted = salary.get("original_period")
        tail = f", quoted by the {quoted}" if quoted and quoted != "year" else ""
        return f"{band} a year (USD{tail})"
    return salary.get("as_written") or None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(
        parent, f"{{{ATOM}}}{tag}", {k: xml_text(v) for k, v in attrs.items() if v}
    )
    if text is not None:
        node.text = xml_text(text)
    return node


def _entry(feed: ET.Element, listing: Mapping, others: Iterable[Mapping]) -> None:
    key = listing.get("duplicate_cluster_id") or f"{listing['source']}:{listing['source_job_id']}"
    name, home = board(listing["source"])
    place = listing.get("location") or listing.get("region")
    salary = salary_text(listing.get("salary") or {})
    company = listing.get("company") or "Company not given"
    stamp = _stamp(listing.get("published_at") or listing.get("first_seen_at"))
    others = list(others)

    entry = _sub(feed, "entry")
    _sub(entry, "id", entry_id(key))
    _sub(entry, "title", listing.get("title") or "(untitled)", type="text")
    _sub(entry, "updated", stamp)
    _sub(entry, "published", stamp)
    _sub(_sub(entry, "author"), "name", company)
    _sub(entry, "link", rel="alternate", type="text/html", href=listing["job_url"], title=name)
    for other in others:
        other_name, _ = board(other["source"])
        _sub(
            entry, "link", rel="related", type="text/html", href=other["job_url"], title=other_name
        )
    for term in (listing.get("category_normalised"), listing.get("region")):
        if term:
            _sub(entry, "category", term=term)

    facts = [f"Company: {company}", f"Place: {place or 'not given'}"]
    if salary:
        facts.append(f"Salary: {salary}")
    credit = f"Listing from {name}" + (f" ({home})" if home else "")
    also = [board(o["source"])[0] for o in others]
    _sub(entry, "summary", ". ".join([*facts, credit]) + ".", type="text")
    html = "".join(f"<p>{escape(fact)}</p>" for fact in facts)
    html += (
        f'<p>Listing from <a href="{escape(listing["job_url"])}">{escape(name)}</a>'
        + (f' (<a href="{escape(home)}">{escape(home)}</a>)' if home else "")
        + "</p>"
    )
    if others:
        links = ", ".join(
            f'<a href="{escape(o["job_url"])}">{escape(n)}</a>'
            for o, n in zip(others, also, strict=True)
        )
        html += f"<p>Also listed on {links}.</p>"
    _sub(entry, "content", html, type="html")
    _sub(entry, "rights", credit, type="text")


def atom_feed(
    *,
    search_id: str,
    title: str,
    self_url: str,
    page_url: str,
    created_at: datetime,
    listings: list[Mapping],
    related: Mapping[str, list[Mapping]],
) -> bytes:
    """The feed's bytes: `listings` newest first (as the API shows them), `related` the
    other members of each one's duplicate cluster, by cluster id."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", feed_id(search_id))
    _sub(feed, "title", title, type="text")
    stamps = [listing.get("published_at") or listing.get("first_seen_at") for listing in listings]
    newest = max((_stamp(s) for s in stamps if s), default=_stamp(created_at))
    _sub(feed, "updated", newest)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    _sub(_sub(feed, "author"), "name", "jobs_assets")
    _sub(feed, "generator", "jobs_assets read API")
    boards = ", ".join(sorted({board(s)[0] for s in SOURCES}))
    _sub(feed, "rights", f"Listings from {boards}; each entry credits its board.", type="text")
    for listing in listings:
        cluster = listing.get("duplicate_cluster_id")
        _entry(feed, listing, related.get(cluster, []) if cluster else [])
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
