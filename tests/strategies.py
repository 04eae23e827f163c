"""Hypothesis strategies for hostile text, shared by every decode and gateway property test.

``st.text()`` leaves out surrogates (category Cs) by default, which hid the gateway's 500 on a
lone ``\\ud800`` and the validator's crash on it. These strategies put back what clients really
send: lone surrogates (a JavaScript string cut inside an emoji), NUL, line and paragraph
separators, bidi controls, a BOM, and strings long enough to cross the event size limit.
"""

from __future__ import annotations

from hypothesis import strategies as st

SPECIAL_CHARACTERS = (
    "\ud800",  # lone high surrogate
    "\udfff",  # lone low surrogate
    "\ud83d",  # the first half of most emoji
    "\x00",  # NUL: PostgreSQL text refuses it
    "\u2028",  # LINE SEPARATOR: a line break to JavaScript, not to JSON
    "\u2029",  # PARAGRAPH SEPARATOR
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\ufeff",  # BOM / zero-width no-break space
    "\ufffd",  # the replacement character itself
    "\U0001f600",  # a whole emoji (a valid surrogate pair in UTF-16)
)

any_character = st.characters(exclude_categories=()) | st.sampled_from(SPECIAL_CHARACTERS)


def hostile_text(
    *, min_size: int = 0, max_size: int = 40, long: bool = True
) -> st.SearchStrategy[str]:
    """Short strings of any code point (surrogates included), sometimes a very long one."""
    short = st.text(any_character, min_size=min_size, max_size=max_size)
    if not long:
        return short
    very_long = st.builds(
        lambda unit, n, tail: unit * n + tail,
        st.sampled_from(["a", "\u00e9", "\ud800", "\U0001f600", "\u2028"]),
        st.integers(min_value=5_000, max_value=70_000),
        short,
    )
    return st.one_of(short, short, short, very_long)


def has_lone_surrogate(text: str) -> bool:
    """True when ``text`` holds a code point no UTF-8 encoder accepts."""
    return any("\ud800" <= c <= "\udfff" for c in text)
