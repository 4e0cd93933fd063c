"""One field map per source: each common field is an expression that renders both as
SQL over the staged JSONB `payload` (what the pipeline runs) and as Python over the
listing's dict (what the salary corpus runs, `Source.item_fields`).

The SQL form is the truth: the pipeline's extraction reads every stored listing with
it. The Python form computes what that SQL returns, value for value and as text (the
same text PostgreSQL gives: `payload->>'k'` of a number is its JSON text, of a list
its `jsonb` text), so the normaliser reads the same input on both paths.
`jobs_assets_tests/test_field_maps.py` runs both over every recorded response and the
whole salary corpus, the SQL in PostgreSQL, and compares every field.

SQL is lenient by design: a field of the wrong type reads as NULL or as its JSON text
instead of failing the whole window, and so does the Python twin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

Item = Mapping[str, object]

# Regex flags that make Python's `re` read the patterns used here as PostgreSQL's
# advanced regular expressions do: `.` matches a newline too.
_PG_REGEX = re.DOTALL
#: what PostgreSQL's `numeric` input accepts of a plain decimal or exponent number
NUMBER_PATTERN = r"^[ \t\n\r]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?[ \t\n\r]*$"


def _literal(value: str) -> str:
    if "'" in value:
        raise ValueError(f"no quotes in SQL literals of field maps: {value!r}")
    return f"'{value}'"


def _number_text(value: int | float) -> str:
    """A JSON number as PostgreSQL prints it back from `jsonb` (`numeric`: plain notation,
    the scale as written: 1000.0 stays `1000.0`, 1e+20 becomes 100000000000000000000)."""
    if isinstance(value, int):
        return str(value)
    number = Decimal(json.dumps(value))
    return format(abs(number) if number == 0 else number, "f")  # numeric has no -0


def _jsonb_key(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8")
    return len(encoded), encoded  # jsonb orders keys by length, then bytewise


def jsonb_text(value: object) -> str:
    """`value` as PostgreSQL's `jsonb` output: keys by length then bytes, `", "` and
    `": "` between items, non-ASCII as is."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = sorted(((str(k), v) for k, v in value.items()), key=lambda kv: _jsonb_key(kv[0]))
        return "{" + ", ".join(f"{jsonb_text(k)}: {jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def element_text(value: object) -> str | None:
    """What `->>` gives for a JSON value: NULL for null, a string as is, anything else
    as its `jsonb` text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return jsonb_text(value)


class _Node:
    """What `Expr` and `Condition` share: the payload keys they read."""

    def keys(self) -> tuple[str, ...]:
        """The listing's own fields this reads, in order and once each (`key` attributes
        of this node and of the nodes it is made of)."""
        found: dict[str, None] = {}
        for attribute in fields(self):  # every node is a dataclass
            value = getattr(self, attribute.name)
            if attribute.name == "key":
                found[value] = None
            for part in value if isinstance(value, tuple) else (value,):
                if isinstance(part, _Node):
                    found.update(dict.fromkeys(part.keys()))
        return tuple(found)


class Expr(_Node):
    """A field's value: `sql()` over `payload`, `read(item)` over the dict; both text."""

    def sql(self) -> str:
        raise NotImplementedError

    def read(self, item: Item) -> str | None:
        raise NotImplementedError


class Condition(_Node):
    """A boolean for `when`: `sql()` and `holds(item)` (NULL counts as false, as in CASE)."""

    def sql(self) -> str:
        raise NotImplementedError

    def holds(self, item: Item) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Expr):
    """`payload->>'key'`: the field as text (a number or a list as its JSON text)."""

    key: str

    def sql(self) -> str:
        return f"payload->>{_literal(self.key)}"

    def read(self, item: Item) -> str | None:
        return element_text(item.get(self.key))


@dataclass(frozen=True)
class First(Expr):
    """The first element of an array field, or the field itself when it is a scalar."""

    key: str

    def sql(self) -> str:
        key = _literal(self.key)
        return (
            f"CASE jsonb_typeof(payload->{key}) WHEN 'array' THEN payload->{key}->>0 "
            f"WHEN 'object' THEN NULL ELSE payload->>{key} END"
        )

    def read(self, item: Item) -> str | None:
        value = item.get(self.key)
        if isinstance(value, list):
            return element_text(value[0]) if value else None
        if isinstance(value, Mapping):
            return None
        return element_text(value)


@dataclass(frozen=True)
class AsJson(Expr):
    """The field as JSON text, for lists the normaliser reads itself (`null` for a JSON
    null, NULL when absent)."""

    key: str

    def sql(self) -> str:
        return f"(payload->{_literal(self.key)})::text"

    def read(self, item: Item) -> str | None:
        return jsonb_text(item[self.key]) if self.key in item else None


@dataclass(frozen=True)
class Joined(Expr):
    """A list field as lower-case text, elements separated by `|` ('' when not a list)."""

    key: str

    def sql(self) -> str:
        key = _literal(self.key)
        return (
            "lower(array_to_string(ARRAY(SELECT jsonb_array_elements_text("
            f"CASE jsonb_typeof(payload->{key}) WHEN 'array' THEN payload->{key} "
            "ELSE '[]'::jsonb END)), '|'))"
        )

    def read(self, item: Item) -> str | None:
        value = item.get(self.key)
        elements = value if isinstance(value, list) else []
        texts = (element_text(v) for v in elements)
        return "|".join(t for t in texts if t is not None).lower()


@dataclass(frozen=True)
class Literal(Expr):
    value: str | None

    def sql(self) -> str:
        return "NULL" if self.value is None else _literal(self.value)

    def read(self, item: Item) -> str | None:
        return self.value


NULL = Literal(None)


@dataclass(frozen=True)
class Coalesce(Expr):
    parts: tuple[Expr, ...]

    def sql(self) -> str:
        return f"COALESCE({', '.join(p.sql() for p in self.parts)})"

    def read(self, item: Item) -> str | None:
        for part in self.parts:
            value = part.read(item)
            if value is not None:
                return value
        return None


@dataclass(frozen=True)
class Prefixed(Expr):
    """`'prefix' || expr`: NULL when `expr` is."""

    prefix: str
    part: Expr

    def sql(self) -> str:
        return f"{_literal(self.prefix)} || {self.part.sql()}"

    def read(self, item: Item) -> str | None:
        value = self.part.read(item)
        return None if value is None else self.prefix + value


@dataclass(frozen=True)
class NonEmpty(Expr):
    """Trimmed of spaces (`btrim`), NULL when nothing is left."""

    part: Expr

    def sql(self) -> str:
        return f"NULLIF(btrim({self.part.sql()}), '')"

    def read(self, item: Item) -> str | None:
        value = self.part.read(item)
        return None if value is None else (value.strip(" ") or None)


@dataclass(frozen=True)
class NullIf(Expr):
    part: Expr
    value: str

    def sql(self) -> str:
        return f"NULLIF({self.part.sql()}, {_literal(self.value)})"

    def read(self, item: Item) -> str | None:
        value = self.part.read(item)
        return None if value == self.value else value


@dataclass(frozen=True)
class Strip(Expr):
    """The first match of `pattern` removed (`regexp_replace` without flags)."""

    part: Expr
    pattern: str

    def sql(self) -> str:
        return f"regexp_replace({self.part.sql()}, {_literal(self.pattern)}, '')"

    def read(self, item: Item) -> str | None:
        value = self.part.read(item)
        return None if value is None else re.sub(self.pattern, "", value, count=1, flags=_PG_REGEX)


@dataclass(frozen=True)
class Vocabulary(Expr):
    """The value of the first rule whose regex (case-insensitive) matches, else NULL.

    For sources whose free text must become one of the table's vocabularies.
    """

    part: Expr
    rules: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        for pattern, value in self.rules:
            if any(c in pattern + value for c in "'%"):
                raise ValueError(f"no quotes or % in vocabulary rules: {pattern!r} -> {value!r}")

    def sql(self) -> str:
        cases = " ".join(
            f"WHEN ({self.part.sql()}) ~* '{pattern}' THEN '{value}'"
            for pattern, value in self.rules
        )
        return f"CASE {cases} END"

    def read(self, item: Item) -> str | None:
        value = self.part.read(item)
        if value is None:
            return None
        for pattern, result in self.rules:
            if re.search(pattern, value, _PG_REGEX | re.IGNORECASE):
                return result
        return None


@dataclass(frozen=True)
class When(Expr):
    """`CASE WHEN condition THEN then ELSE otherwise END`."""

    condition: Condition
    then: Expr
    otherwise: Expr = NULL

    def sql(self) -> str:
        otherwise = "" if self.otherwise == NULL else f" ELSE {self.otherwise.sql()}"
        return f"CASE WHEN {self.condition.sql()} THEN {self.then.sql()}{otherwise} END"

    def read(self, item: Item) -> str | None:
        return (self.then if self.condition.holds(item) else self.otherwise).read(item)


@dataclass(frozen=True)
class AnyNotNull(Condition):
    parts: tuple[Expr, ...]

    def sql(self) -> str:
        return "(" + " OR ".join(f"{p.sql()} IS NOT NULL" for p in self.parts) + ")"

    def holds(self, item: Item) -> bool:
        return any(p.read(item) is not None for p in self.parts)


def _number(value: str | None) -> Decimal | None:
    if value is None or not re.match(NUMBER_PATTERN, value):
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


@dataclass(frozen=True)
class GreatestBelow(Condition):
    """The greatest of `parts` read as numbers (text that is not a number is NULL, and
    GREATEST skips NULLs) is below `limit`."""

    parts: tuple[Expr, ...]
    limit: int

    def sql(self) -> str:
        numbers = ", ".join(
            f"CASE WHEN ({p.sql()}) ~ '{NUMBER_PATTERN}' THEN ({p.sql()})::numeric END"
            for p in self.parts
        )
        return f"GREATEST({numbers}) < {int(self.limit)}"

    def holds(self, item: Item) -> bool:
        numbers = [n for n in (_number(p.read(item)) for p in self.parts) if n is not None]
        return bool(numbers) and max(numbers) < self.limit


# --- the names source modules use ----------------------------------------------------


def text(key: str) -> Expr:
    return Text(key)


def first(key: str) -> Expr:
    """The first element of an array field, or the field itself when it is a scalar."""
    return First(key)


def as_json(key: str) -> Expr:
    """The field as JSON text, for lists the normaliser reads itself."""
    return AsJson(key)


def joined(key: str) -> Expr:
    """A list field as lower-case text, elements separated by `|` ('' when not a list)."""
    return Joined(key)


def vocabulary(expression: Expr, rules: Iterable[tuple[str, str]]) -> Expr:
    """The value of the first rule whose regex (case-insensitive) matches, else NULL."""
    return Vocabulary(expression, tuple(rules))


def non_empty(expression: Expr) -> Expr:
    return NonEmpty(expression)


def coalesce(*parts: Expr) -> Expr:
    return Coalesce(parts)


def literal(value: str) -> Expr:
    return Literal(value)
