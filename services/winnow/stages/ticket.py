"""Ticket understanding: split a support conversation into opening, issue, working turns, closing.

Real tickets open with greetings and end with "thanks, that's all" / "have a great day"; the last
exchange is small talk far more often than an answer. This stage labels every turn so routing can
use the customer's issue statement, scoring and training can skip the small talk, and curation can
say which turn decided. Kafka-free and deterministic: plain text in, labels out.

The turn classifier is a phrase lexicon, not a model: a turn is small talk when, once greeting,
thanks and goodbye phrases (and fillers and names) are removed, at most one content word is left.
Measured precision and recall are in docs/conversations.md (``winnow-ticket-eval``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from winnow.events import ChatMessage, Role


class TurnKind(StrEnum):
    """What one turn does, judged from its own text."""

    GREETING = "greeting"
    """Hello, how can I help, how are you: opens the chat, says nothing about the issue."""
    CLOSING = "closing"
    """Thanks, goodbyes, "anything else?", "that's all", survey prompts."""
    ACK = "ack"
    """A bare acknowledgement or yes/no ("ok", "sure", "no") with no content of its own."""
    IDENTITY = "identity"
    """The agent asks for identity details (name, account number, PIN, date of birth)."""
    TRANSFER = "transfer"
    """The agent only hands the customer over ("let me transfer you to billing")."""
    SUBSTANCE = "substance"
    """Anything else: the issue, questions about it, actions, answers."""


SMALL_TALK = frozenset({TurnKind.GREETING, TurnKind.CLOSING})


class Segment(StrEnum):
    """Where a turn sits in the ticket."""

    OPENING = "opening"
    ISSUE = "issue"
    WORKING = "working"
    CLOSING = "closing"


_GREETING_PHRASES = (
    r"h+i+[u]?|ha+i+|h+e+l+o+w?|helo+|hey+|hiya|howdy|greetings|yo|namaste"
    r"|(good|gud|gd) ?(morning|mrng|mrg|mng|moring|morng|afternoon|evening|eve|day)|morning",
    r"how (are|r) (you|u|ya)( doing)?( today)?|how is it going|how s it going|hows it going"
    r"|how (are|r) things|how is your day( going)?",
    r"(i m|i am|im) (fine|good|great|well|doing (well|good|great)|ok|okay)( too| also| as well)?"
    r"( thank you| thanks)?( and you| how about you| you)?",
    r"nice to (meet|talk to|chat with) you|pleased to meet you",
    r"(how|what) can i (help|do for|assist)( you)?( with)?( today)?"
    r"|how may i (help|assist)( you)?( today)?"
    r"|what can i do for you( today)?|what do you need( help with)?( today)?"
    r"|(i m|i am) (here|happy|glad) to help( you)?( today)?"
    r"|welcome to [a-z ]{0,30}|thanks? for (contacting|reaching|calling|chatting with) (us|[a-z]+)"
    r"|thank you for (contacting|reaching out to|calling|chatting with) (us|[a-z ]{0,30})"
    r"|you( ve| have)? reached [a-z ]{0,30}|this is [a-z]+( from [a-z ]{0,20})?"
    r"|(my name is|i m|i am) [a-z]+( [a-z]+)?( and)? (how can|i ll be|i will be)"
    r"|can i help you( with something| with anything)?( today)?|need help\??",
    r"(this is|i am|i m) (your|a|an|the) [a-z ]{0,25}(assistant|agent|ai|bot|representative)",
)
_CLOSING_PHRASES = (
    r"(thank|thanks?|thanking|thx|thnx|thanx|ty|tq|tysm|thankyou|thnks|thnk|thnaks)( you| u"
    r"| so much| a lot| alot"
    r"| very much| again| for (your|the|all) (help|time|assistance|patience)| for helping"
    r"| for everything)*",
    r"(i|we)? ?(really )?appreciate (it|that|your help|the help|you)|much appreciated|cheers",
    r"(good)? ?bye+|byee+|bye bye|goodbye|see (you|ya)( later| soon)?|take care|later|cya|ttyl",
    r"(you|u) too|same (to|2) (you|u)|with pleasure|welcome"
    r"|have an? (great|nice|good|wonderful|lovely|fantastic|pleasant|blessed|amazing|awesome) "
    r"(day|one|evening|night|weekend|holiday|time|rest of (your|the) (day|evening|week))"
    r"|(enjoy|have fun)( (your|the) [a-z]+)?( [a-z]+)?",
    r"(is there|was there|do you need|can i help you with|anything) ?(anything|something)? "
    r"?(else|more)( (that|which))? ?(i|we)? ?(can|could|may)? ?(do|help|assist)? ?(for|with)?"
    r" ?(you)?( today)?",
    r"i m (all )?(set|good|done)|all (set|good|done)|that will be all|that ll be all"
    r"|that would be all|you can end the chat( now)?|end (the )?chat",
    r"(you re|you are|your) (welcome|very welcome|most welcome)|(my|our) pleasure"
    r"|no problem( at all)?|glad (i|we) (could|can|was able to) help( you)?( today)?"
    r"|happy to help|anytime|any time|don t mention it|no worries",
    r"(please )?(take|fill out|complete|rate) (a|our|the|this) (short |quick |brief )?"
    r"(survey|questionnaire|rating)|rate (this|our|your) (chat|conversation|experience|service)"
    r"|how did (we|i) do|feedback (about|on) (this|our) (chat|conversation)"
    r"|(please )?take a (moment|minute|second) to|(in|with|via) (the|a|our) (short |quick |brief )?"
    r"survey( that follows| below| that will follow)?",
    r"(you|u) (were|ve been|have been|are) (very |so |really |super )?"
    r"(helpful|great|awesome|amazing|kind|nice)|great (help|service|job)",
    r"for (your|the|all|all the|all your) (kind )?(help|time|assistance|support|patience"
    r"|information|info)",
    r"(i )?hope (you|u) (have|enjoy) (a|an|the|your)( [a-z]+)?( (day|weekend|holiday|evening"
    r"|night|trip|vacation|time))?",
    r"(it was|it s been) (a pleasure|nice|great)( (talking|chatting|helping|speaking)"
    r"( (to|with) you)?)?|until next time",
)
_ACK_WORDS = (
    r"ok+|okay+|okey|k|kk|sure|yes+|yeah+|yep|yup|ya|yea|no+|nope|nah|alright|all right|right"
    r"|fine|great|perfect|awesome|cool|nice|good|excellent|wonderful|understood|got it|i see"
    r"|sounds (good|great|perfect)|that s (great|perfect|fine|good|wonderful)|will do|done"
    r"|correct|exactly|of course|hmm+|uh+|um+|oh|wow|please|one (moment|sec|second)|hold on"
    r"|just a (moment|sec|second)|wait|sorry|nothing|else|more|none|not now|that s (all|it)"
    r"|that is (all|it)|thats (all|it)|it s (all|it)|its (all|it)|enough|for (now|today)"
    # An agent's holding replies: they promise work, they do not do it.
    r"|let me (check|look into|look|see) (that|this|it)?( for you)?|noted|i (have|ve) noted"
    r"( that| it| this| down)?|(while|as) i (look into|check) (it|that|this)"
    r"|(i can|i ll|i will|i d be happy to|happy to) (help|assist)( you)? with (that|this)"
    r"|thanks? (you )?for the (details|information|info)|bear with me|please hold"
)
# A customer turn that starts by declining ("no thanks", "nothing else, have a nice day")
# answers the agent's "anything else?": an acknowledgement, not small talk (MultiDoGO labels it
# a rejection). "ok thanks" is thanks.
_ANSWER_FIRST = re.compile(
    r"^(no+|nope?s?|nop|nah|nothing|none|not now|not really|(ok|okay|okey) ?no)\b"
)
_GLUED = re.compile(r"(?<=[a-z])(thank|thanks|bye|good bye|goodbye)\b")
# Words that carry no content on their own: they never make a turn substantive.
_FILLER = frozenset(
    str.split(
        "a an and the so well very much really just again too also then now ok okay oh sir madam"
        " mam maam dear friend buddy there everyone all you u your i me my we us our it that this"
        " is am are was be to for of with in on at as but or great good nice lovely pm am day"
        " today lol haha please kindly yes no"
    )
)
_IDENTITY_NOUNS = (
    r"name|account( number| no| id)?|pin( number| code)?|date of birth|birth ?date|dob"
    r"|social security|ssn|security (question|answer)|mother s maiden name|password|username"
    r"|e ?mail( address)?|phone( number)?|zip ?code|postal code|member(ship)? (id|number)"
    r"|policy (number|id)|customer (id|number)|last (four|4) digits|order (number|id)"
)
# An agent request for the customer's own identity details ("can you tell me your account
# number, please?", "and your PIN as well"), short enough to be only that.
_IDENTITY = re.compile(
    rf"\byour (full |first and last |last |first )?({_IDENTITY_NOUNS})\b"
    r"|\bthe (e ?mail( address)?|phone( number)?|account number|order (number|id)|date of birth)"
    r" on (the|your) account\b"
    rf"|\b(verify|confirm) your (identity|account)\b"
)
_REQUEST = re.compile(r"\?|\bplease\b|\b(may|can|could) (i|you)\b|\bi (ll |will )?need\b")
# Hand-overs ("let me transfer you", "a specialist will contact you"): the same phrases curation's
# escalation filter looks for, matched on normalised text.
_TRANSFER = re.compile(
    r"\b(let me|i ll|i will|i am going to|i m going to|allow me to) "
    r"(transfer|escalate|forward|pass|connect|hand)\b"
    r"|\b(i ve|i have) (escalated|forwarded|transferred|passed)\b"
    r"|\b(transferring|escalating|connecting) you\b"
    r"|\b(a|an|our) (specialist|supervisor|agent|manager|colleague|team member)s? will "
    r"(contact|call|reach|get back|be with)\b"
)
_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9 ]+")


def _compile(phrases: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(f"(?:{p})" for p in phrases) + r")\b")


_GREETING = _compile(_GREETING_PHRASES)
_CLOSING = _compile(_CLOSING_PHRASES)
_ACK = re.compile(rf"^(({_ACK_WORDS})\b ?)+$")
_ACK_PHRASE = re.compile(rf"\b({_ACK_WORDS})\b")


def _normal(text: str) -> str:
    """Lower case, apostrophes dropped ("that's" -> "that s"), punctuation to spaces."""
    lowered = text.casefold().replace("\u2019", "'").replace("'", " ")
    spaced = _SPACE.sub(" ", _NON_WORD.sub(" ", lowered)).strip()
    # Chat typing glues words together ("okthanks", "daygood bye").
    return _GLUED.sub(r" \1", spaced)


def _residue(text: str, patterns: Sequence[re.Pattern[str]]) -> tuple[list[str], list[int]]:
    """Content words left once ``patterns`` are removed (in order), and each one's matches."""
    hits = []
    for pattern in patterns:
        text, n = pattern.subn(" ", text)
        hits.append(n)
    return [w for w in text.split() if w not in _FILLER], hits


def classify_turn(text: str, role: Role) -> TurnKind:
    """The kind of one turn (``role``: who said it; only agents ask identity questions)."""
    norm = _normal(text)
    if not norm:
        return TurnKind.ACK
    if role is Role.ASSISTANT and _identity_request(text, norm):
        return TurnKind.IDENTITY
    if role is Role.ASSISTANT and _TRANSFER.search(norm) and len(norm.split()) <= 20:
        return TurnKind.TRANSFER
    words, (greetings, closings) = _residue(norm, (_GREETING, _CLOSING))
    if role is Role.USER and _ANSWER_FIRST.match(norm):
        rest, _ = _residue(" ".join(words), (_ACK_PHRASE,))
        if len(rest) <= max_residue(norm):
            return TurnKind.ACK
    if greetings + closings and len(words) <= max_residue(norm):
        # Both in one turn ("hi, thanks for waiting"): the later phrase says what it does.
        if greetings and closings:
            return TurnKind.GREETING if _greeting_is_last(norm) else TurnKind.CLOSING
        return TurnKind.GREETING if greetings else TurnKind.CLOSING
    rest, (_, _, acks) = _residue(norm, (_GREETING, _CLOSING, _ACK_PHRASE))
    if _ACK.match(norm) or (acks and not rest):
        return TurnKind.ACK
    return TurnKind.SUBSTANCE


def _identity_request(text: str, norm: str) -> bool:
    return len(norm.split()) <= 18 and bool(_IDENTITY.search(norm)) and bool(_REQUEST.search(text))


def max_residue(norm: str) -> int:
    """Content words a small-talk turn may keep: a name ("hi anna"), a word of chat."""
    return 1 if len(norm.split()) < 12 else 2


def _greeting_is_last(norm: str) -> bool:
    greeting = max((m.start() for m in _GREETING.finditer(norm)), default=-1)
    closing = max((m.start() for m in _CLOSING.finditer(norm)), default=-1)
    return greeting > closing


def is_small_talk(text: str, role: Role) -> bool:
    """Whether a turn is greeting or closing small talk."""
    return classify_turn(text, role) in SMALL_TALK


@dataclass(frozen=True, slots=True)
class TicketTurn:
    """One message of a conversation with what it does and where it sits."""

    role: Role
    text: str
    kind: TurnKind
    segment: Segment

    @property
    def substantive_answer(self) -> bool:
        """An agent turn worth judging and training on."""
        return self.role is Role.ASSISTANT and self.kind is TurnKind.SUBSTANCE


@dataclass(frozen=True, slots=True)
class Conversation:
    """A segmented conversation."""

    turns: tuple[TicketTurn, ...]

    @property
    def issue_indices(self) -> list[int]:
        """Positions of the issue-statement turns."""
        return [i for i, t in enumerate(self.turns) if t.segment is Segment.ISSUE]

    @property
    def issue(self) -> str:
        """The customer's issue statement (empty when the customer never said anything of use)."""
        return "\n".join(self.turns[i].text for i in self.issue_indices)

    @property
    def substantive_answers(self) -> list[int]:
        """Positions of the agent turns that carry substance."""
        return [i for i, t in enumerate(self.turns) if t.substantive_answer]

    def weights(self) -> list[int]:
        """Training weight per turn: 1 for substantive agent turns, 0 for every other agent turn.

        Customer turns get 0 too (trainers never train on user messages; the value is kept so the
        list lines up with the messages).
        """
        return [1 if t.substantive_answer else 0 for t in self.turns]


def segment_conversation(
    messages: Sequence[tuple[Role, str]], *, issue_turns: int = 1
) -> Conversation:
    """Label each ``(role, text)`` message with its kind and segment.

    - opening: leading turns before the customer's first substantive message;
    - issue: that message and up to ``issue_turns - 1`` further substantive customer messages
      before the agent's first substantive reply;
    - closing: the trailing run of small talk and acknowledgements (either speaker);
    - working: everything in between.
    """
    kinds = [classify_turn(text, role) for role, text in messages]
    first_issue = next(
        (
            i
            for i, ((role, _), kind) in enumerate(zip(messages, kinds, strict=True))
            if role is Role.USER and kind is TurnKind.SUBSTANCE
        ),
        None,
    )
    issue: set[int] = set()
    if first_issue is not None:
        issue.add(first_issue)
        for i in range(first_issue + 1, len(messages)):
            role, kind = messages[i][0], kinds[i]
            if len(issue) >= issue_turns or (role is Role.ASSISTANT and kind is TurnKind.SUBSTANCE):
                break
            if role is Role.USER and kind is TurnKind.SUBSTANCE:
                issue.add(i)
    closing_from = len(messages)
    while closing_from > 0 and kinds[closing_from - 1] in (*SMALL_TALK, TurnKind.ACK):
        closing_from -= 1
    opening_until = first_issue if first_issue is not None else 0
    turns = []
    for i, ((role, text), kind) in enumerate(zip(messages, kinds, strict=True)):
        if i in issue:
            segment = Segment.ISSUE
        elif i < opening_until:
            segment = Segment.OPENING
        elif i >= closing_from and (first_issue is None or i > first_issue):
            segment = Segment.CLOSING
        else:
            segment = Segment.WORKING
        turns.append(TicketTurn(role, text, kind, segment))
    return Conversation(tuple(turns))


def issue_of(messages: Sequence[ChatMessage]) -> str:
    """The issue statement of a chat (empty when no user message carries substance)."""
    return segment_conversation(
        [(m.role, m.content) for m in messages if m.role is not Role.SYSTEM]
    ).issue


@dataclass(frozen=True, slots=True)
class JudgedTurn:
    """One agent turn to score: its position, the context it answers and its text."""

    index: int
    context: str
    answer: str


def judged_turns_of(messages: Sequence[ChatMessage]) -> list[JudgedTurn]:
    """The weight-1 agent turns of a conversation, each with the context it is judged against."""
    issue = issue_of(messages)
    out: list[JudgedTurn] = []
    for i, message in enumerate(messages):
        if message.role is not Role.ASSISTANT or message.weight != 1:
            continue
        nearest = next((m.content for m in reversed(messages[:i]) if m.role is Role.USER), "")
        # The issue first: with the embedder's 256-token window, whatever is cut is the tail.
        context = issue if nearest in ("", issue) else f"{issue}\n{nearest}" if issue else nearest
        out.append(JudgedTurn(i, context, message.content))
    return out
