"""Person names in conversational text: cues ("my name is", "this is", sign-offs), Title-case
runs, lone words only a name can be, bare answers, and names typed before another value
("suganthi and 2220"). Used by ``winnow.pii.entities``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from winnow.pii.cities import is_city
from winnow.pii.expect import Expect
from winnow.pii.lexicon import (
    CHAT_WORDS,
    KNOWN_NAMES,
    is_chatter,
    is_first_name,
    is_garbled,
    is_known_name,
    is_rare,
    is_surname,
    large_zipf,
    surname_rank,
    zipf,
)
from winnow.pii.nonpersonal import ENDEARMENTS, exclaimed
from winnow.pii.tokens import FUNCTION as _FUNCTION
from winnow.pii.tokens import Tok as _Tok
from winnow.pii.tokens import cue_matches
from winnow.pii.tokens import joined as _joined
from winnow.pii.types import PiiType

_NAME_CUE = re.compile(
    r"(?i)\b(?:(?P<strong>(?:my |the |full |first |last |second |middle |sur)*names?"
    r"(?:\s*is|'s|:|\s*-)?|"
    r"signed|(?:kind |best |warm )?regards,|sincerely,|cheers,|yours,|best,|dear|attn:?)"
    # Weak: what follows must look like a name ("thanks, silly me", "call me dumb").
    r"|(?P<weak>this is|i am|i'm|im|it's|its|it is|hi|hello|hey|thanks,?|thank you,?|bye|"
    r"call me|myself|"
    r"mr\.?|mrs\.?|ms\.?|miss|dr\.?))\s+"
)
_NAME_TRIGGERS = frozenset(
    """
    my the full first last second middle sur name names nameis signed kind best warm regards
    sincerely cheers yours dear attn
    this i im it its it's hi hello hey thanks thank bye call myself mr mrs ms miss dr
    """.split()  # noqa: SIM905
)


def _namey(tok: _Tok, cased: bool, relaxed: bool) -> bool:
    """Could this token be (part of) a person's name here?"""
    low = tok.low
    if not low.isalpha() or low in _FUNCTION:
        return False
    if is_known_name(low):
        return True
    title = tok.text[0].isupper() and not tok.text.isupper()
    if cased and title and (is_first_name(low) or is_surname(low) or zipf(low) < 3.5):
        return True
    if relaxed:  # after "my name is": any word that is not common English
        return is_rare(low, 3.5) or zipf(low) < 4.0
    # After "hi", "this is": a word that is not ordinary English ("hemanth", "kannan").
    return is_rare(low, 3.0)


def _extend_name(toks: list[_Tok], i: int, text: str, cased: bool, relaxed: bool) -> int:
    """Index past the name that starts at token ``i`` (at most four words)."""
    j = i + 1
    while j < len(toks) and j - i < 4 and _joined(text, toks[j - 1], toks[j]):
        low = toks[j].low
        # "jennifer bale": after a listed first name, a listed surname that is not a common
        # word continues the name even after a weak cue ("i am").
        listed = low not in _FUNCTION and (
            (relaxed and (is_surname(low) or is_first_name(low)))
            or (is_first_name(toks[i].low) and is_surname(low) and zipf(low) < 4.0)
        )
        if (
            not listed
            and not _namey(toks[j], cased, relaxed)
            and not (len(low) == 1 and low.isalpha())
        ):
            break
        j += 1
    return j


# "clara is my name", "jack jones is my name": the name before the cue.
_NAME_AFTER = re.compile(
    r"(?i) (?:is|as|was) (?:my|the) (?:full |first |last |sur|pets? |pet's |dog's |cat's )?"
    r"name\b"
)


def _find_names_before_cue(text: str) -> Iterator[tuple[int, int]]:
    if "my" not in text and "My" not in text and "MY" not in text:
        return  # fast path: every cue has "my" in it
    for m in _NAME_AFTER.finditer(text):
        words = text[max(0, m.start() - 60) : m.start()].split()[-3:]
        while words and not _name_word(words[0].lower(), True):
            words.pop(0)  # "yes of course jack jones": the lead-in is no name
        if words and all(w.isalpha() and _name_word(w.lower(), True) for w in words):
            yield m.start() - len(" ".join(words)), m.start()


def find_cued_names(text: str, toks: list[_Tok], cased: bool) -> Iterator[tuple[int, int]]:
    yield from _find_names_before_cue(text)
    starts = {t.start: i for i, t in enumerate(toks)}
    for m in cue_matches(_NAME_CUE, text, toks, _NAME_TRIGGERS):
        i = starts.get(m.end())
        if i is None:
            continue
        tok = toks[i]
        strong = m.group("strong") is not None
        if strong:
            ok = tok.low.isalpha() and tok.low not in _FUNCTION
            # Without "is" or ":" the cue may be an ordinary phrase ("the name associated
            # with", "signed up", "best, such as"): the word must then look like a name.
            if ok and not re.search(r"(?:is|:|'s|-)\s*$", m.group()):
                ok = _namey(tok, cased, relaxed=True) and tok.low not in CHAT_WORDS
        else:
            # "this is thomson", "i am lenin": a word that is not common English, where the
            # turn ends or another value follows, is the name.
            last = i + 1 == len(toks) or toks[i + 1].low == "and" or toks[i + 1].low.isdigit()
            ok = (
                _namey(tok, cased, relaxed=False)
                or (last and _name_word(tok.low) and not is_garbled(tok.low))
                or (is_first_name(tok.low) and zipf(tok.low) < 4.8 and tok.low not in _FUNCTION)
            ) and (not cased or tok.text[0].isupper() or is_known_name(tok.low))
            ok = ok and tok.low not in ENDEARMENTS  # "good bye sweety", "thanks hon"
        if ok:
            j = _extend_name(toks, i, text, cased, relaxed=strong)
            yield tok.start, toks[j - 1].end


def find_titled_names(text: str, toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """Runs of two or three Title-case words led by a listed first name ("Katarina Miller")."""
    i = 0
    while i < len(toks) - 1:
        a, b = toks[i], toks[i + 1]
        # "David Miller's account": the name is "David Miller".
        b_low = b.low[:-2] if b.low.endswith(POSSESSIVE) else b.low
        if (
            a.text[:1].isupper()
            and b.text[:1].isupper()
            and not a.text.isupper()
            and a.low.isalpha()
            and b_low.isalpha()
            and a.low not in _FUNCTION
            and b_low not in _FUNCTION
            and is_first_name(a.low)
            and (is_surname(b_low) or is_first_name(b_low) or zipf(b_low) < 3.5)
            and _joined(text, a, b)
        ):
            j = i + 2
            if (
                b_low == b.low
                and j < len(toks)
                and toks[j].text[:1].isupper()
                and is_surname(toks[j].low)
            ):
                j += 1 if _joined(text, b, toks[j]) else 0
            end = toks[j - 1].end
            yield a.start, end - 2 if toks[j - 1].low.endswith(POSSESSIVE) else end
            i = j
        else:
            i += 1


_PERSON_BEFORE = frozenset(
    [
        "to",
        "with",
        "from",
        "by",
        "and",
        "ask",
        "asked",
        "tell",
        "told",
        "called",
        "named",
        "contact",
        "cc",
        "agent",
        "colleague",
        "manager",
        "mr",
        "mrs",
        "ms",
        "dr",
    ]
)


def find_lone_names(text: str, toks: list[_Tok], cased: bool) -> Iterator[tuple[int, int]]:
    """Single words only a name can be: listed, not English, written as a name. Mid-sentence,
    a capitalised first name that is not a common word counts too ("sent it to Norman")."""
    for k, tok in enumerate(toks):
        if cased and (tok.text.isupper() or not tok.text[0].isupper()):
            continue
        low, end = tok.low, tok.end
        if low.endswith(POSSESSIVE):  # "to Amir's checking account": the name is "Amir"
            low, end = low[:-2], end - 2
        if low in _FUNCTION or low in ENDEARMENTS:  # "such a good boi"
            continue
        if is_known_name(low, 3.5):
            yield tok.start, end
        elif cased and is_first_name(low) and zipf(low) < 4.5:
            # Mid-sentence, and after a word that introduces a person: interface labels are
            # capitalised too ("then Edit", "open Billing").
            before = text[max(0, tok.start - 12) : tok.start].rstrip()
            last = before.rsplit(None, 1)[-1].lower() if before.split() else ""
            if last in _PERSON_BEFORE or (before and before[-1] == "," and zipf(low) < 3.5):
                yield tok.start, end
        elif cased and _unlisted_name_after(text, toks, k, low):
            yield tok.start, end


POSSESSIVE = ("'s", "\u2019s")
# Words after which a lone capitalised word no dictionary knows is a person: the payee of a
# transfer ("send $650 to Pranav", "the checking account of Xiaoxue"), a relative.
_PAYEE_BEFORE = frozenset(
    """
    to from for of with pay paying paid send sending owe owes named called friend cousin
    brother sister mom mum dad wife husband son daughter uncle aunt
    """.split()  # noqa: SIM905
)


# "switch to Freemium account", "guides for Pro users": the word before these names a plan or a
# product, not a person.
_PRODUCT_NOUNS = frozenset(
    """
    account accounts user users plan plans subscription tier membership version edition app
    package bundle service services mode license licence card cards program
    """.split()  # noqa: SIM905
)


def _unlisted_name_after(text: str, toks: list[_Tok], k: int, low: str) -> bool:
    """Cased text: ``toks[k]`` is one capitalised word that no word list knows, right after a
    lower-case word in ``_PAYEE_BEFORE``, and not followed by another capitalised word (a run of
    them names a hotel or a place: "to Novotel Paris"; a product noun makes it a plan: "to
    Freemium account"). The name lists miss many given names
    ("Pranav", "Xiaoxue", "Sanuj"); a listed city is no person."""
    if k == 0 or not low.isalpha() or not is_rare(low) or is_city(low) or len(low) < 3:
        return False
    prev = toks[k - 1]
    if prev.text != prev.low or prev.low not in _PAYEE_BEFORE or not _joined(text, prev, toks[k]):
        return False
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    if nxt is None or not _joined(text, toks[k], nxt) or toks[k].low.endswith(POSSESSIVE):
        return True
    return not nxt.text[:1].isupper() and nxt.low not in _PRODUCT_NOUNS


_LEAD = frozenset(
    """
    yes yeah ya ok okay sure its it's it is my name this i am im the number no is hi hello
    and sorry oh fine here thanks thank you please account pin password code ssn card id
    username user last digits of first full correct
    """.split()  # noqa: SIM905
)


# Answers that give no value: "I forgot", "no idea", "it might be ...".
HEDGES = frozenset(
    """
    forgot forget forgotten remember idea know dont don't unsure cannot can't might maybe
    probably think guess be not sorry wait moment either neither both none whichever
    """.split()  # noqa: SIM905
)


def find_answer(toks: list[_Tok], expect: Expect) -> Iterator[tuple[int, int, PiiType]]:
    """A short turn that only gives a value: the words after the lead-in are the value."""
    if not toks or len(toks) > 6:
        return
    i = 0
    while i < len(toks) and toks[i].low in _LEAD:
        i += 1
    rest = toks[i:]
    # "robin 4152": the words before trailing digits are the answer (the digits are
    # find_numbers').
    short_number = False
    while rest and rest[-1].low.isdigit():
        short_number = len(rest[-1].low) <= 3
        rest = rest[:-1]
    if not rest or len(rest) > 4 or not all(t.low.isalpha() for t in rest):
        return
    if (
        short_number
        and not expect & (Expect.NAME | Expect.CREDENTIAL | Expect.USERNAME)
        and not any(is_first_name(t.low) or is_surname(t.low) for t in rest)
    ):
        return  # "psrew 400", "tea 2", "maruti 800": a model or a quantity, not a name
    words = rest
    if not expect & Expect.NAME and exclaimed(words):
        return  # "Lord Jesus!", "AI"
    if expect & (Expect.NAME | Expect.CREDENTIAL | Expect.USERNAME | Expect.ADDRESS):
        if all(t.low not in CHAT_WORDS and t.low not in HEDGES for t in words):
            yield rest[0].start, rest[-1].end, PiiType.NAME
        return
    lead = words[0].low
    # "deacon ware", "john west": a first name, then listed names; after a first name that is
    # also a common word ("will", "art") the rest must not be common words ("will wait").
    strong = is_first_name(lead) and (zipf(lead) < 4.3 or lead in KNOWN_NAMES)
    first_last = (
        len(words) in (2, 3)
        and (strong or (is_first_name(lead) and zipf(lead) < 4.8) or is_rare(lead))
        and not is_chatter(lead)
        and all(
            (is_surname(t.low) or is_first_name(t.low))
            and t.low not in _FUNCTION
            and (strong or zipf(t.low) < 4.0)
            for t in words[1:]
        )
    )
    # "umesh yadav", "slade arellano": two or three name-like words, one of them listed.
    paired = _common_surname(words[-1].low)
    pair = (
        len(words) in (2, 3)
        and all(_name_word(t.low, paired) for t in words)
        and any(is_first_name(t.low) or surname_rank(t.low) <= 20000 for t in words)
    )
    if (
        first_last
        or pair
        or (
            len(words) <= 3
            and all(
                is_known_name(t.low, 4.6)
                or is_rare(t.low, 3.0)
                # a common surname, not a product word ("cable", "ford")
                or (_common_surname(t.low) and zipf(t.low) < 4.4)
                for t in words
                if len(t.low) > 1
            )
            and any(len(t.low) > 1 for t in words)
        )
    ):
        yield rest[0].start, rest[-1].end, PiiType.NAME


# What follows a name typed before another value ("suganthi and 2220", "vincy joel account no
# 9249", "pushpaac password 321").
_VALUE_WORDS = frozenset(
    """
    ssn social account acct ac card credit debit password pass pin booking confirmation
    policy claim phone mobile cell number no id username user email mail address zip dob
    """.split()  # noqa: SIM905
)


def _name_word(low: str, paired: bool = False) -> bool:
    """Could this lower-case word be part of a name typed without a cue? Listed first names
    and surnames that are not common English, or words that are not English and that no corpus
    knows well either (``vino``, ``suganthi``; not ``toyota``, ``pesto``, ``madurai``).
    ``paired``: next to a common surname, a first name may be a common word ("mark jones")."""
    if not low.isalpha() or low in _FUNCTION or is_chatter(low) or len(low) < 2:
        return False
    if low in KNOWN_NAMES:
        return True
    z = zipf(low)
    if is_first_name(low) and (z < 4.8 or (paired and z < 5.6)):
        return True
    rank = surname_rank(low)
    if rank <= 5000 and z < 4.6:  # "thompson", "cobb": common surnames
        return True
    return z < 4.0 and (rank <= 20000 or large_zipf(low) < 2.5)


def _common_surname(low: str) -> bool:
    return surname_rank(low) <= 5000 and zipf(low) < 4.6 and low not in _FUNCTION


def find_lead_name(text: str, toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """Words opening a turn and followed by another value are the customer's name, as typed
    in answer to "name and account number?": "mark 5525", "sahoo and 941253120", "kamali yumu
    ssn no 3545", "myself libby marcos"."""
    i = 0
    while i < len(toks) and (toks[i].low in _LEAD or toks[i].low == "myself"):
        i += 1
    j = i
    while j < len(toks) and j - i < 3 and _name_word(toks[j].low):
        j += 1
    if j == i:
        return
    # A short word glued to digits is an id's prefix ("giri gr 59685"), not the name's.
    if j - i > 1 and len(toks[j - 1].low) <= 3 and j < len(toks) and toks[j].low.isdigit():
        j -= 1
    words = toks[i:j]
    rest = toks[j:]
    digits_later = any(t.low[0].isdigit() for t in rest)
    nxt = rest[0].low if rest else ""
    after = rest[1].low if len(rest) > 1 else ""
    # "mark 5525" but not "corolla 2017" or "tea 2": an id-sized number, not a year or count.
    number_next = nxt.isdigit() and len(nxt) >= 4 and not _YEARISH.fullmatch(nxt)
    if nxt == "my" and after in _VALUE_WORDS:  # "kannan my ssn no 9369"
        nxt = after
    if rest and rest[0].low in ("my", "and"):  # "bibin and hjg 854"
        rest = rest[1:]
    # "kannan j 87 g 54": a booking code's letters, then its digits.
    code_next = (
        len(rest) > 1
        and rest[0].low.isalpha()
        and len(rest[0].low) <= 3
        and rest[0].low not in _FUNCTION
        and rest[1].low.isdigit()
    )
    value_next = (
        number_next
        or code_next
        or (nxt in _VALUE_WORDS and digits_later)
        or (nxt == "and" and (after[:1].isdigit() or after in _VALUE_WORDS or after == "my"))
    )
    intro = i > 0 and toks[i - 1].low in ("myself", "am", "im")
    if value_next or (intro and not rest):
        yield words[0].start, words[-1].end


_YEARISH = re.compile(r"(?:19|20)\d\d")


def with_initials(
    text: str, toks: list[_Tok], found: list[tuple[int, int, PiiType]]
) -> list[tuple[int, int, PiiType]]:
    """A name hit followed by a middle initial ("john m 7504 taylor drive", "donald m palmer"):
    the initial is part of the name when a street line or a surname follows it (before other
    digits it may be a code's letter: "kannan j 87 g 54")."""
    streets = {s for s, _, kind in found if kind is PiiType.ADDRESS}
    out = list(found)
    for s, e, kind in found:
        if kind is not PiiType.NAME:
            continue
        i = next((k for k, t in enumerate(toks) if t.start > e), None)
        if i is None or i + 1 >= len(toks) or not _joined(text, toks[i - 1], toks[i]):
            continue
        low, nxt = toks[i].low, toks[i + 1].low
        initial = len(low) == 1 and low.isalpha() and low not in ("i", "a")
        if initial and (toks[i + 1].start in streets or is_surname(nxt)):
            out.append((s, toks[i].end, PiiType.NAME))
    return out
