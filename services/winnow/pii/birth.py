"""Dates of birth: the date a customer types when asked for one ("May 8, 1927", "4/1/75"), or
after saying "my date of birth is" / "DOB" / "born on" in the same turn. Other dates (an
order's, a payment's) are left, as ``winnow.pii.redact`` leaves dates."""

from __future__ import annotations

import re
from collections.abc import Iterator

from winnow.pii.expect import Expect

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE = re.compile(
    r"(?i)(?<![\w/.\-])(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    rf"|{_MONTH} {_DAY},?(?: of)? \d{{4}}|{_DAY} (?:of )?{_MONTH},? \d{{4}})(?![\w/\-]|\.\d)"
)
_CUE = re.compile(r"(?i)\b(?:date of birth|birth ?date|birthday|dob|born)\b")


def find_birth_dates(text: str, expect: Expect) -> Iterator[tuple[int, int]]:
    """Spans of dates of birth in one turn, by the question before it or a cue in it."""
    if expect & Expect.BIRTH:
        start = 0
    else:
        low = text.lower()
        if "birth" not in low and "dob" not in low and "born" not in low:
            return  # fast path: no cue, no date of birth
        cue = _CUE.search(text)
        if cue is None:
            return
        start = cue.end()
    yield from (m.span() for m in DATE.finditer(text, start))
