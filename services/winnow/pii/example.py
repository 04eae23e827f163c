"""Redaction of a whole ``Example``: every turn, with numbered placeholders per conversation."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from winnow.events import Role
from winnow.example import Example, example_id
from winnow.pii.conversation import find_pii_in_turns, split_turns
from winnow.pii.redact import render
from winnow.pii.subjects import subjects_of
from winnow.pii.types import Numbering, PiiSpan, PiiType

OrderPolicy = Literal["keep", "pseudonymise", "redact"]
PlaceholderStyle = Literal["numbered", "surrogate"]


def redact_example(
    example: Example,
    *,
    entities: bool = True,
    subject_key: bytes | None = None,
    orders: OrderPolicy = "pseudonymise",
    placeholders: PlaceholderStyle = "numbered",
) -> tuple[Example, dict[PiiType, int]]:
    """Return a copy of ``example`` with messages, ``chosen`` and ``rejected`` redacted.

    The messages are one conversation: each turn is searched knowing what the previous turn
    (of the other role) asked for, and one ``Numbering`` runs over the whole example, so
    ``<NAME_1>`` is the same person in the question, the answer and ``chosen``/``rejected``.
    With ``subject_key``, the keyed hashes of the identifiers removed go to ``subjects``
    (``winnow.pii.subjects``). The id is recomputed from the redacted content, so examples
    that differ only in their PII values get the same id (and deduplicate). The second value
    counts hits per type. ``orders``: order, ticket, invoice and tracking numbers are left as
    they are (``keep``), replaced by a keyed pseudonym (``pseudonymise``, with ``subject_key``
    as the key; ``<ORDER_1>`` without one) or by ``<ORDER_1>`` (``redact``). ``placeholders``:
    ``surrogate`` writes realistic stand-ins keyed by ``subject_key`` ("Anna Keller" for every
    mention of one person; ``winnow.pii.surrogates``); without a key it stays ``numbered``,
    because an unkeyed stand-in could be reversed by hashing every name in a list.
    """
    totals: Counter[PiiType] = Counter()
    numbering = Numbering(
        order_key=subject_key if orders == "pseudonymise" else None,
        surrogate_key=subject_key if placeholders == "surrogate" else None,
    )
    subjects: set[str] = set(example.subjects)

    def clean(text: str, spans: list[PiiSpan]) -> str:
        subjects.update(subjects_of(subject_key, text, spans))
        result = render(text, spans, numbering)
        totals.update(result.counts)
        return result.text

    texts, found = _spans(example, entities, orders)
    cleaned = [clean(t, spans) for t, spans in zip(texts, found, strict=True)]
    messages = [
        m.model_copy(update={"content": text})
        for m, text in zip(example.messages, cleaned, strict=False)
    ]
    rest = iter(cleaned[len(messages) :])
    chosen = next(rest) if example.chosen is not None else None
    rejected = next(rest) if example.rejected is not None else None
    new_id = example_id(
        tenant=example.tenant,
        kind=example.kind,
        messages=messages,
        chosen=chosen,
        rejected=rejected,
    )
    update = {
        "messages": messages,
        "chosen": chosen,
        "rejected": rejected,
        "id": new_id,
        "redactions": {t.value: n for t, n in totals.items()},
        "subjects": sorted(subjects),
    }
    return example.model_copy(update=update), dict(totals)


def _spans(
    example: Example, entities: bool, orders: OrderPolicy
) -> tuple[list[str], list[list[PiiSpan]]]:
    """The texts of ``example`` (messages, then ``chosen`` and ``rejected`` where present) and
    their hits: the messages are one conversation, a customer message split back into the
    chat turns the normaliser joined, searched by ``find_pii_in_turns``."""
    turns: list[tuple[str, str]] = []
    origin: list[tuple[int, int]] = []  # (message, offset of the turn in it)
    for k, m in enumerate(example.messages):
        parts = split_turns(m.content) if m.role is Role.USER else [(0, len(m.content))]
        for start, end in parts:
            turns.append((m.role.value, m.content[start:end]))
            origin.append((k, start))
    texts = [m.content for m in example.messages]
    replies = tuple(t for t in (example.chosen, example.rejected) if t is not None)
    hits = find_pii_in_turns(turns, entities=entities, replies=replies)
    found: list[list[PiiSpan]] = [[] for _ in texts]
    for (k, offset), turn_hits in zip(origin, hits, strict=False):
        found[k] += [PiiSpan(offset + h.start, offset + h.end, h.type) for h in turn_hits]
    texts += replies
    found += hits[len(turns) :]
    if orders == "keep":
        found = [[s for s in spans if s.type is not PiiType.ORDER] for spans in found]
    return texts, found
