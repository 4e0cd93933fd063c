"""Candidate lines for `jobs_assets_tests/data/salary_labels.csv` (issue 28).

Reads the salary corpus (docs/salary_corpus.md) and writes, per source, every distinct
line of a listing's description that names an amount of money or pay, skipping items
whose origin is the project's own recorded fixtures. The labels in the CSV were then
written by hand from these lines (the parser was not run to make them); lines about
funding, revenue or budgets were left out, as were lines whose meaning a reader cannot
settle (typos such as `$100,000-120,0`).

    python docs/data/salary_label_lines.py ../shared/data/salary_corpus out.jsonl
"""

from __future__ import annotations

import gzip
import html
import json
import re
import sys
from pathlib import Path

BLOCK = re.compile(r"<\s*(?:/?(?:p|li|ul|ol|div|h\d|tr|td|table|section)|br\s*/?)\b[^>]*>", re.I)
TAG = re.compile(r"<[^>]+>")
CODES = (
    "USD|EUR|GBP|CAD|AUD|INR|CHF|SEK|PLN|BRL|NZD|SGD|PHP|MXN|ZAR|JPY|DKK|NOK|HUF|CZK|RON|"
    "ILS|AED|NGN|KES|COP|ARS"
)
MONEY = re.compile(
    rf"(?:[$€£₹¥₱]|\b(?:{CODES}|usd|eur|gbp|cad|inr)\b)\s?\d"
    rf"|\d[\d,.\s]*[kK]?\s?(?:[$€£₹]|\b(?:{CODES}|usd|eur|gbp|cad)\b)"
    r"|\b\d+(?:[.,]\d+)?\s?(?:LPA|lakhs?|lacs?)\b"
    r"|\b(?:salary|compensation|pay|rate|wage)\b[^.]{0,60}\d"
)
SOURCES = ("remotive", "jobicy", "remoteok", "himalayas")


def lines(description: str) -> list[str]:
    text = html.unescape(TAG.sub("", BLOCK.sub("\n", description)))
    found = []
    for line in text.split("\n"):
        line = re.sub(r"\s+", " ", line).strip()
        if not line or not MONEY.search(line):
            continue
        parts = [line] if len(line) <= 220 else re.split(r"(?<=[.;!?])\s+", line)
        found += [p.strip() for p in parts if p.strip() and len(p) <= 220 and MONEY.search(p)]
    return found


def main(corpus: Path, out: Path) -> None:
    seen: dict[tuple[str, str], str] = {}
    for source in SOURCES:
        with gzip.open(corpus / f"{source}.jsonl.gz", "rt", encoding="utf-8") as f:
            for row in map(json.loads, f):
                if row["origin"]["repo"] == "shared/fixtures":
                    continue
                item = row["item"]
                description = item.get("description") or item.get("jobDescription") or ""
                for line in lines(description):
                    seen.setdefault((source, line), str(row.get("id", "")))
    with out.open("w", encoding="utf-8") as f:
        for (source, line), listing in seen.items():
            f.write(json.dumps({"source": source, "text": line, "id": listing}) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
