"""Normalised keys of a listing for duplicate matching: company, title, seniority,
requisition ids, place and description.

Pure functions over strings, cached per distinct value: a window repeats companies and
places a lot, and the matcher calls these for every listing in every touched block.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import pycountry

from jobs_assets.lib.sources.mojibake import repair_mojibake


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Legal forms and filler words a company name carries on one board and not another
# ("Phaidra" on one board is "Phaidra, Inc." on another).
_LEGAL_SUFFIXES = _wordset(
    "inc incorporated llc llp lp ltd limited plc gmbh mbh ag kg kgaa ug se sa sas sarl srl spa "
    "bv nv oy ab as aps asa pty pte co corp corporation company group holding holdings "
    "haftungsbeschrankt ev e.v the"
)
_TLDS = _wordset("com io de co ai net org app dev tech eu uk us")
#: a domain's ending at the end of a company name: ".io", ".co.uk"
_DOMAIN_ENDING = re.compile(r"(?:\.(?:" + "|".join(sorted(_TLDS)) + r"))+\s*$")

# Gender markers of German and French titles: (m/w/d), (w/m/d), (all genders), (H/F), m/f/x
_GENDER = re.compile(
    r"\(\s*(?:[mwfdhx]\s*[/|,]\s*){1,3}[mwfdhx*]\s*\)\*?"
    r"|\b(?:[mwfdhx]\s*/\s*){2,3}[mwfdhx]\b\*?"
    r"|\(\s*(?:all|alle)\s+gender[s]?\s*\)|\(\s*gn\s*\)|\*in\b|\(in\)",
    re.IGNORECASE,
)
# A board's repost counter at the end of a title: "Remote NCLEX-RN Tutor (23)". Five
# digits are left alone: Airtasker puts ZIP codes there, and a ZIP is a place.
_COUNTER = re.compile(r"\s*[\(\[]\s*\d{1,3}\s*[\)\]]\s*$")
_NON_WORD = re.compile(r"[^0-9a-z+#]+")

#: title words that say a level, not a job; mapped onto one spelling each
SENIORITY_WORDS = {
    "intern": "intern",
    "internship": "intern",
    "trainee": "intern",
    "praktikum": "intern",
    "praktikant": "intern",
    "werkstudent": "student",
    "student": "student",
    "junior": "junior",
    "jr": "junior",
    "entry": "junior",
    "graduate": "junior",
    "associate": "associate",
    "mid": "mid",
    "middle": "mid",
    "intermediate": "mid",
    "senior": "senior",
    "sr": "senior",
    "staff": "staff",
    "principal": "principal",
    "lead": "lead",
    "head": "head",
    "director": "director",
    "vp": "vp",
    "chief": "chief",
    "i": "level1",
    "ii": "level2",
    "iii": "level3",
    "iv": "level4",
    "v": "level5",
}
# Rank of the `seniority` column's values (jobs_assets.lib.normalise.rows.SENIORITIES).
SENIORITY_RANK = {"entry": 0, "mid": 1, "senior": 2, "manager": 3, "director": 4, "executive": 5}

_NOISE_WORDS = _wordset(
    "remote remotely hybrid onsite on site fully work from home wfh anywhere worldwide global "
    "globally position role job opening opportunity vacancy hiring needed wanted f "
    "full time part time fulltime parttime vollzeit teilzeit"
)
_REGION_WORDS = _wordset(
    "usa us u.s uk emea apac latam amer americas eu europe european asia africa anz na "
    "north america latin south east west central eastern western northern southern nordics "
    "dach benelux mena cet est pst cst"
)

# Requisition ids: "Req #12345", "Requisition ID: 26WD94865", "JR-1234", "R0123456", "Job 27166",
# "OP02015". A bare number is not one: too many titles carry years and sizes.
_REQ_PATTERNS = (
    re.compile(
        r"\b(?:job\s+)?req(?:uisition)?(?:\s*(?:id|no|number|nr))?\.?\s*[:#]?\s*#?\s*"
        r"([a-z0-9]{0,6}[-_]?\d{3,}[a-z0-9-]*)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:job\s*(?:id|no|number|code)?)\s*[:#]?\s*#?\s*(\d{4,})\b", re.IGNORECASE),
    re.compile(r"\b((?:jr|req|r|op|ops|jid)[-_]?\d{4,}(?:-\d+)?)\b", re.IGNORECASE),
)


def fold(text: str | None) -> str:
    """Lower-case ASCII-ish text: entities decoded twice, mojibake repaired, accents dropped."""
    if not text:
        return ""
    text = str(text)
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", repair_mojibake(text))
    # the marks this text has, removed one by one: a C pass each (a generator over every
    # character was most of the matcher's cost per listing)
    for mark in {c for c in set(text) if not c.isascii() and unicodedata.combining(c)}:
        text = text.replace(mark, "")
    return text.replace("ß", "ss").casefold()


@lru_cache(maxsize=200_000)
def company_key(name: str | None) -> str:
    """The blocking key: "Phaidra, Inc." and "PHAIDRA" give the same key, and so do "Open
    AI" and "OpenAI" (the words are joined: boards split and join names differently). A
    domain's ending goes ("Zafran.io"), a last word that only looks like one stays
    ("Scale AI")."""
    folded = fold(name)
    ending = _DOMAIN_ENDING.search(folded)
    if ending and ending.start() > 0:  # "Zafran.io", "Dental21.de"
        folded = folded[: ending.start()]
    words = _NON_WORD.sub(" ", folded.replace("&", " and ")).split()
    kept = [w for w in words if w not in _LEGAL_SUFFIXES]
    return "".join(kept or words)


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    """Folded country names (name, common and official names) -> ISO alpha-2."""
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                codes[" ".join(_NON_WORD.sub(" ", fold(value)).split())] = country.alpha_2
    aliases = {"usa": "US", "us": "US", "u s": "US", "united states": "US", "uk": "GB",
               "united kingdom": "GB", "england": "GB", "scotland": "GB", "russia": "RU"}  # fmt: skip
    return codes | aliases


@lru_cache(maxsize=1)
def _place_names() -> tuple[frozenset[str], re.Pattern[str]]:
    """Country names (single words, and a pattern for the multi-word ones); "us" is no
    place word of a title ("join us")."""
    names = set(_country_codes()) - {"us", "u s"}
    single = frozenset(n for n in names if " " not in n)
    multi = sorted((n for n in names if " " in n), key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in multi) + r")\b")
    return single, pattern


def is_place_word(word: str) -> bool:
    single, _ = _place_names()
    return word in single or word in _REGION_WORDS


@lru_cache(maxsize=200_000)
def title_parts(title: str | None) -> tuple[tuple[str, ...], frozenset[str]]:
    """(core words in order, seniority words) of a title.

    Gender markers, repost counters, punctuation, "remote" and country or region names
    are dropped: boards add them to the same job ("(Canada) Regional Named Account
    Executive - Pennsylvania" is another board's "Regional Named Account Executive Pennsylvania").
    """
    text = fold(title)
    text = _COUNTER.sub("", _GENDER.sub(" ", text))
    text = _place_names()[1].sub(" ", _NON_WORD.sub(" ", text))
    core: list[str] = []
    levels: set[str] = set()
    for word in text.split():
        if word in SENIORITY_WORDS:
            levels.add(SENIORITY_WORDS[word])
        elif word in _NOISE_WORDS or is_place_word(word):
            continue
        elif word not in ("and", "und", "of", "for", "the", "in", "at", "with", "a"):
            core.append(word)
    return tuple(core), frozenset(levels)


#: region words of titles that name one part of the world the same way
_REGION_SAME = {"eu": "europe", "european": "europe", "amer": "americas", "na": "north america",
                "latin": "latam", "nordics": "nordic"}  # fmt: skip
_JOB_TYPES = {"full time": "full", "fulltime": "full", "vollzeit": "full",
              "part time": "part", "parttime": "part", "teilzeit": "part"}  # fmt: skip
_JOB_TYPE_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, _JOB_TYPES)) + r")\b")


@lru_cache(maxsize=200_000)
def title_scope(title: str | None) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(countries, regions, job types) a title names: the words `title_parts` drops
    because boards add them to one job, and that still tell two jobs apart when both
    titles name them and name different ones ("Account Executive - EMEA" and "- APAC";
    "(Canada)" and "(India)"; "Part-time" and "Full-time")."""
    text = " ".join(_NON_WORD.sub(" ", fold(title)).split())
    types = frozenset(_JOB_TYPES[m] for m in _JOB_TYPE_RE.findall(text))
    codes = _country_codes()
    countries: set[str] = set()
    for name in _place_names()[1].findall(text):
        countries.add(codes.get(name, name))
    text = _place_names()[1].sub(" ", text)
    regions: set[str] = set()
    for word in text.split():
        if word in codes:
            countries.add(codes[word])
        elif word in _REGION_WORDS and word not in ("us", "usa", "uk"):
            regions.add(_REGION_SAME.get(word, word))
    return frozenset(countries), frozenset(regions), types


def seniority_rank(value: str | None) -> int | None:
    return SENIORITY_RANK.get(value) if isinstance(value, str) else None


@lru_cache(maxsize=65_536)
def requisition_ids(*texts: str | None) -> frozenset[str]:
    """Explicit requisition ids in a title or the head of a description, upper-cased
    without separators ("JR-1234" and "jr1234" are one id)."""
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        for pattern in _REQ_PATTERNS:
            for match in pattern.finditer(text):
                value = re.sub(r"[-_\s]", "", match.group(1)).upper()
                if any(c.isdigit() for c in value):
                    found.add(value)
    return frozenset(found)


@lru_cache(maxsize=200_000)
def place_key(location_raw: str | None) -> str:
    """The most specific place a listing names (its first part when that is not a country
    or region), e.g. "essen" for "Essen, North Rhine-Westphalia, Germany"; "" when the
    listing names only countries, regions or "Remote"."""
    text = fold(location_raw)
    if not text:
        return ""
    first = re.split(r"[,;/|(]| or | - ", text, maxsplit=1)[0]
    words = [
        w
        for w in _NON_WORD.sub(" ", _place_names()[1].sub(" ", first)).split()
        if w not in _NOISE_WORDS and not is_place_word(w)
    ]
    return " ".join(words)


_SHINGLE_WORDS = re.compile(r"[a-z0-9]+")
# A source may end every description with an anti-spam instruction; it is not the job.
_ANTI_SPAM_TAIL = re.compile(r"please mention the word.*$", re.DOTALL)


#: characters of a description read first; 400 words almost always fit in them
_DESCRIPTION_HEAD = 4_000


@lru_cache(maxsize=8_192)  # one employer's reposts share their description
def description_words(description: str | None, limit: int = 400) -> tuple[str, ...]:
    """The first `limit` words of a description, folded: enough to tell two jobs apart.

    Only the head of a long description is folded (folding is most of the matcher's cost
    per listing); the whole text is read when the head holds too few words to be sure
    that a word, an entity or the anti-spam phrase cut at its end cannot reach them.
    """
    if not description:
        return ()
    if len(description) > _DESCRIPTION_HEAD:
        head = _words(description[:_DESCRIPTION_HEAD])
        if len(head) > limit + 4:  # the phrase is 4 words: a cut one lies past `limit`
            return head[:limit]
    return _words(description)[:limit]


def _words(text: str) -> tuple[str, ...]:
    return tuple(_SHINGLE_WORDS.findall(_ANTI_SPAM_TAIL.sub("", fold(text))))
