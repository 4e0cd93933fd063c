"""Who may apply (lib/normalise/eligibility.py) on the phrasings issue 28 names.

Each case is a location text with what a person reads in it; the real strings of the
sources are scored in test_hard_locations.py.
"""

from __future__ import annotations

import pytest

from jobs_assets.lib.normalise.eligibility import (
    Eligibility,
    admits_country,
    country_offsets,
    eligibility_of,
    parse_band,
    region_members,
)
from jobs_assets.lib.normalise.location import locate_names, locate_text


def who(text: str, **kwargs: object) -> Eligibility:
    return eligibility_of(text, locate_text(text), **kwargs)


@pytest.mark.parametrize(
    "text, band",
    [
        ("UTC+2 ±3h", (-1, 5)),
        ("CET", (1, 2)),
        ("CET +/- 3 HOURS", (-2, 5)),
        ("US time zones", (-8, -4)),
        ("Americas time zones", (-8, -3)),
        ("EST", (-5, -4)),
        ("GMT-5 to GMT+1", (-5, 1)),
        ("UTC-3 to UTC+3", (-3, 3)),
        ("within 4 hours of CET", (-3, 6)),
        ("UTC+5:30", (5.5, 5.5)),
        ("UTC+5.5", (5.5, 5.5)),  # a fraction of an hour
        # one end is the anchor alone: UTC itself
        ("GMT to GMT+3", (0, 3)),
        ("UTC-3 to UTC", (-3, 0)),
        ("MSK", (3, 3)),
        # two groups sharing "time zones": each one's band
        ("Remote (US & EU time zones)", (-8, 3)),
        # zones spelled out, and a tolerance without its unit
        ("Eastern Time", (-5, -4)),
        ("Pacific Time", (-8, -7)),
        ("Pacific Time Zone", (-8, -7)),
        ("Central European Time", (1, 2)),
        ("GMT+1 ±2", (-1, 3)),
        ("Europe", None),
        ("West Africa", None),
    ],
)
def test_stated_bands(text: str, band: tuple[float, float] | None) -> None:
    assert parse_band(text) == (None if band is None else tuple(map(float, band)))
    if band is not None and text != "Europe":
        found = who(text)
        assert found.eligibility == "timezones" and not found.eligible_countries
        assert (found.utc_offset_min, found.utc_offset_max) == tuple(map(float, band))


def test_uk_time_is_a_band() -> None:
    assert parse_band("UK time") == (0.0, 1.0)
    assert (who("UK time").utc_offset_min, who("UK time").utc_offset_max) == (0.0, 1.0)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Worldwide", "worldwide"),
        ("Anywhere in the world", "worldwide"),
        ("Remote", "worldwide"),
        ("Remote, United States", "countries"),
        ("Worldwide, USA only", "countries"),
        ("Anywhere (UTC-5 to UTC+3)", "timezones"),
        ("Remote - Narnia", "unknown"),
        ("", "unknown"),
        ("Hybrid - Berlin", "onsite_or_hybrid"),
        ("Europe (CET)", "regions"),
        # remote offered beside an office is a remote job too (HN strings, 2026-12-08)
        ("Hybrid (Madison, WI) or Remote (US)", "countries"),
        ("REMOTE (US) or HYBRID (NYC)", "countries"),
        ("Onsite or remote, London", "countries"),
        ("Paris area (hybrid) and Remote in Europe", "regions"),
        ("Hybrid & Remote (US)", "countries"),
        # ...not a remote word that only qualifies the office
        ("Remote - hybrid in Berlin", "onsite_or_hybrid"),
        ("Hybrid/Remote", "onsite_or_hybrid"),
        # every time zone is anywhere
        ("Remote, all timezones", "worldwide"),
        ("Any time zone", "worldwide"),
    ],
)
def test_a_restriction_anywhere_wins_over_a_worldwide_word(text: str, kind: str) -> None:
    assert who(text).eligibility == kind


def test_only_and_except_phrasing() -> None:
    assert who("USA only").eligible_countries == ("US",)
    europe = region_members("europe")
    found = who("Europe except UK")
    assert found.eligibility == "regions"
    assert set(found.eligible_countries) == europe - {"GB"} and "DE" in europe
    anywhere_but = who("Anywhere, except US/Canada")
    assert anywhere_but.eligibility == "countries"
    assert {"US", "CA"}.isdisjoint(anywhere_but.eligible_countries)
    assert {"DE", "IN", "BR"} <= set(anywhere_but.eligible_countries)


def test_regions_expand_to_their_countries() -> None:
    found = who("EMEA")
    assert found.eligibility == "regions"
    assert {"DE", "NG", "AE"} <= set(found.eligible_countries)
    assert "JP" not in found.eligible_countries  # EMEA's Asia is the Middle East
    # a country name holding a region word is the country ("South Africa" is not Africa)
    assert who("Brazil, South Africa").eligible_countries == ("BR", "ZA")


def test_withdrawn_codes_are_no_region_s_members() -> None:
    assert "SU" not in region_members("europe")  # the Soviet Union, withdrawn in 1992
    assert locate_text("SU").countries == ()


def test_structured_fields_of_the_sources() -> None:
    anywhere = locate_names([])  # Himalayas: no locationRestrictions
    assert eligibility_of("", anywhere).eligibility == "worldwide"
    banded = eligibility_of("", anywhere, timezones=[-8, -7, -6, -5])
    assert (banded.eligibility, banded.utc_offset_min, banded.utc_offset_max) == (
        "timezones",
        -8.0,
        -5.0,
    )
    berlin = locate_text("Berlin", "DE")
    office = eligibility_of("Berlin", berlin, remote=False, remote_only=False)
    remote = eligibility_of("Berlin", berlin, remote=True, remote_only=False)
    assert (office.eligibility, office.eligible_countries) == ("onsite_or_hybrid", ("DE",))
    assert (remote.eligibility, remote.eligible_countries) == ("countries", ("DE",))


def test_a_person_in_germany() -> None:
    assert country_offsets("DE") == (1.0, 2.0)
    assert admits_country(who("Worldwide"), "DE")
    assert admits_country(who("EMEA"), "DE")
    assert admits_country(who("CET +/- 3 HOURS"), "DE")
    assert not admits_country(who("US time zones"), "DE")
    assert not admits_country(who("USA"), "DE")
    assert not admits_country(who("Remote - Narnia"), "DE")


@pytest.mark.parametrize(
    "text",
    [
        "Remote (ex-US)",
        "Remote Worldwide *not US",
        "Remote (Non-US)",
        "Worldwide (no US)",
        "Anywhere but US",
        "Worldwide (US not eligible)",
    ],
)
def test_every_wording_of_worldwide_but_one_country(text: str) -> None:
    found = who(text)
    assert found.eligibility == "countries", found
    assert not admits_country(found, "US")
    assert admits_country(found, "DE") and admits_country(found, "BR")
    assert "US" not in locate_text(text).countries  # the excluded country is not named


def test_an_exclusion_after_a_region_leaves_the_country_out() -> None:
    found = who("Europe only, no US")
    assert found.eligibility == "regions"
    assert set(found.eligible_countries) == region_members("europe")
    assert not admits_country(found, "US")


@pytest.mark.parametrize(
    "text",
    [
        "Remote – Worldwide (sanctioned countries excluded)",  # which ones, we cannot read
        "Worldwide (xyzzy)",
        "Remote (Narnia only)",
    ],
)
def test_unreadable_restrictions_are_unknown_not_worldwide(text: str) -> None:
    assert who(text).eligibility == "unknown"


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Worldwide (no timezone restrictions)", "worldwide"),  # "no" restricting nothing
        ("Oslo, NO", "countries"),  # capital NO is Norway
        ("Remote but US-based", "countries"),  # "but" after no worldwide word excludes nothing
        ("Remote (Berlin)", "countries"),  # a bracketed city is looked up, not dropped
        ("USA (No visa sponsorship)", "countries"),  # "no" + nothing readable, places named
        ("Germany, no agencies", "countries"),
    ],
)
def test_words_that_look_like_exclusions(text: str, kind: str) -> None:
    found = who(text)
    assert found.eligibility == kind
    if kind == "countries":
        assert len(found.eligible_countries) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Worldwide except US and Canada",
        "Worldwide (except US & Canada)",
        "Anywhere, except US/Canada",
        "Weltweit außer USA und Kanada",
        "Partout sauf États-Unis et Canada",
        "Mundial excepto EE.UU. y Canadá",
    ],
)
def test_every_excluded_country_of_a_list_is_out_in_any_language(text: str) -> None:
    found = who(text)
    assert found.eligibility == "countries", found
    assert not admits_country(found, "US") and admits_country(found, "DE")
    assert {"US", "CA"}.isdisjoint(locate_text(text).countries)  # neither is named


@pytest.mark.parametrize(
    "text, country",
    [
        ("Remote US (excluding California)", "US"),
        ("United States (excl. California, New York)", "US"),
        ("US only, excluding Hawaii and Alaska", "US"),
        ("Canada only, not Quebec", "CA"),
    ],
)
def test_leaving_out_a_state_keeps_the_rest_of_its_country(text: str, country: str) -> None:
    assert who(text) == Eligibility("countries", (country,))


def test_a_flag_restricts_and_directions_share_their_noun() -> None:
    assert who("Remote 🇬🇧") == Eligibility("countries", ("GB",))
    both = who("North and South America")
    assert both.eligibility == "regions"
    assert {"US", "CA", "BR", "AR"} <= set(both.eligible_countries)
    assert "MX" not in both.eligible_countries  # Central America is not named
    assert who("América Latina").eligibility == "regions"
    assert who("Europa", home_country="DE").eligibility == "regions"  # not a German place


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        # a part of a continent in another language is that part, not the continent
        ("Europa del Este", {"PL", "RO", "UA"}, {"FR", "ES", "GB"}),
        ("Osteuropa", {"PL", "RO", "UA"}, {"FR", "DE"}),
        ("Europe de l'Est", {"PL", "BG"}, {"FR"}),
        ("Westeuropa", {"DE", "FR", "NL"}, {"PL", "ES"}),
        ("Europa del Sur", {"ES", "IT", "PT"}, {"DE", "PL"}),
        ("Nordeuropa", {"SE", "DK", "GB"}, {"ES", "DE"}),
        ("América del Norte", {"US", "CA"}, {"BR", "MX"}),
        ("América del Sur", {"BR", "AR"}, {"US", "MX"}),
        ("Asien", {"JP", "IN"}, {"DE"}),
        ("Afrique", {"NG", "SN"}, {"FR"}),
        ("Moyen-Orient", {"AE", "SA"}, {"IN", "FR"}),
        # Central Europe is its own countries, not the UN's Western Europe with France
        ("Central Europe", {"AT", "CZ", "PL", "DE"}, {"FR", "NL", "ES"}),
        ("Mitteleuropa", {"AT", "CZ", "PL"}, {"FR"}),
        ("CEE", {"PL", "RO", "EE", "RS"}, {"DE", "FR", "RU"}),
        ("Central and Eastern Europe", {"PL", "RO", "AT"}, {"FR", "ES"}),
        # Central Africa is the UN's Middle Africa; West and Central both, not all of Africa
        ("Central Africa", {"CM", "CD", "GA"}, {"NG", "KE", "ZA"}),
        ("West and Central Africa", {"NG", "SN", "CM", "CD"}, {"KE", "ZA", "EG"}),
    ],
)
def test_parts_of_the_world_in_any_language_are_those_parts(
    text: str, inside: set[str], outside: set[str]
) -> None:
    found = who(text)
    assert found.eligibility == "regions", found
    assert inside <= set(found.eligible_countries), found
    assert not outside & set(found.eligible_countries), found
    assert locate_text(text).countries == ()  # a region, never one country ("America")


@pytest.mark.parametrize(
    ("text", "kind", "countries", "band"),
    [
        # a city before a remote word in brackets is the city's country, not worldwide
        ("Berlin (Remote)", "countries", ("DE",), None),
        ("NYC (Remote)", "countries", ("US",), None),
        ("São Paulo (Remoto)", "countries", ("BR",), None),
        # a ZIP code is no town: "PA 19103" is Pennsylvania, not Pa in Burkina Faso
        ("Philadelphia, PA 19103", "countries", ("US",), None),
        ("Seattle, WA 98101-2345", "countries", ("US",), None),
        # states' codes side by side, or after the US or a remote word, are states
        ("Remote (AZ, CA, CO, FL, TX)", "countries", ("US",), None),
        ("Remote - US (CA, CO, NY, WA only)", "countries", ("US",), None),
        ("Remote, CO / MA / IL / NC / DE / ME", "countries", ("US",), None),
        ("Remote, TX", "countries", ("US",), None),
        # ...and a code beside a city or alone is what it was: countries, other states
        ("CA, DE", "countries", ("CA", "DE"), None),
        ("Perth, WA", "countries", ("AU",), None),
        ("Lisbon, PT", "countries", ("PT",), None),
        # US zones' short forms where the text is about zones or the US
        ("Eastern Time (ET)", "timezones", (), (-5.0, -4.0)),
        ("Remote (PT/ET)", "timezones", (), (-8.0, -4.0)),
        ("Remote - US (ET)", "countries", ("US",), (-5.0, -4.0)),
        ("US Remote (CT/ET time zones)", "countries", ("US",), (-6.0, -4.0)),
        ("Worldwide (EU hours)", "timezones", (), (0.0, 3.0)),
        # flags side by side are a list; the EU's flag is the EU
        ("🇺🇸🇨🇦", "countries", ("CA", "US"), None),
        ("Remote 🇩🇪🇦🇹🇨🇭", "countries", ("AT", "CH", "DE"), None),
        # hybrid and office words in the boards' other languages
        ("Híbrido - Madrid", "onsite_or_hybrid", ("ES",), None),
        ("Praca hybrydowa, Warszawa", "onsite_or_hybrid", ("PL",), None),
        ("In sede - Torino", "onsite_or_hybrid", ("IT",), None),
        ("Sur site - Lyon", "onsite_or_hybrid", ("FR",), None),
        ("Op kantoor - Utrecht", "onsite_or_hybrid", ("NL",), None),
        # a state left out with no country named: the job is in that state's country
        ("Remote (not available in California)", "countries", ("US",), None),
        ("Not hiring in: California, New York", "countries", ("US",), None),
        # "unable to hire in" leaves places out
        ("Remote in the US; we are unable to hire in Alaska or Puerto Rico", "countries",
         ("US",), None),
        # a worldwide word narrowed to places it does not name is not worldwide
        ("Worldwide - select countries", "unknown", (), None),
        ("Worldwide where we have legal entities", "unknown", (), None),
        ("Anywhere in our supported countries", "unknown", (), None),
        # a part of a country left out, with the words around it: the rest of it
        ("Canada (Remote - Quebec excluded)", "countries", ("CA",), None),
        ("US - excluding residents of California", "countries", ("US",), None),
        ("United States, not hiring in Colorado", "countries", ("US",), None),
        # a country's time zones are a band, as "US time zones" is
        ("UK time zones", "timezones", (), (0.0, 1.0)),
        ("EU/UK timezones", "timezones", (), (0.0, 3.0)),
        ("US/Canada time zones", "timezones", (), (-8.0, -2.5)),
        # how a team works is no restriction
        ("Global (async team)", "worldwide", (), None),
        ("Anywhere (fully distributed team)", "worldwide", (), None),
    ],
)  # fmt: skip
def test_phrasings_a_probe_of_real_boards_found_misread(
    text: str, kind: str, countries: tuple[str, ...], band: tuple[float, float] | None
) -> None:
    found = who(text)
    assert (found.eligibility, found.eligible_countries) == (kind, countries), found
    if band is not None:
        assert (found.utc_offset_min, found.utc_offset_max) == band, found


def test_the_eu_flag_is_the_eu() -> None:
    found = who("🇪🇺")
    assert found.eligibility == "regions"
    assert {"DE", "FR", "PL"} <= set(found.eligible_countries)
    assert "GB" not in found.eligible_countries and "CH" not in found.eligible_countries


def test_a_long_text_is_read_in_its_first_characters_only() -> None:
    """No real location is thousands of characters long; one that is must not cost its
    length squared (an unbounded look-back once took 18 s on 16,000 characters)."""
    text = "x" * 16_000 + " not eligible"
    assert who(text) == who(text[:2000])


@pytest.mark.parametrize(
    "text", ["Anywhere in Country", "GM Global Technical Center - Sloan Engineering Center"]
)
def test_a_worldwide_word_inside_a_restriction_never_makes_a_listing_worldwide(text: str) -> None:
    assert who(text).eligibility == "unknown"
