"""What a data-quality rule found: the shape every area's checks share.

`lib/listings/quality.py` (a window's listings) and `lib/identity/quality.py` (its
lifecycle and clusters) both return a `Finding`; the asset checks turn one into a check
result. Kept apart from both so neither area imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: offending rows kept per rule, so the operator sees what is wrong without a query
SAMPLE_ROWS = 5


@dataclass
class Finding:
    """The outcome of one rule: violation counts per rule and a few offending rows."""

    violations: dict[str, int] = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)
    checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(self.violations.values())

    def summary(self) -> str:
        failed = {rule: n for rule, n in self.violations.items() if n}
        if not failed:
            return f"{self.checked} rows checked, no violations"
        return ", ".join(f"{n} {rule}" for rule, n in failed.items())
