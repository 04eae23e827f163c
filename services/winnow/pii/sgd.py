"""Schema-Guided Dialogue's bank transfers as planted-PII conversations (see
``winnow.pii.realtext``).

SGD (CC-BY-SA-4.0) is written as people write: cased, punctuated, both sides of the dialogue.
Its slot spans mark the payee of a transfer (``recipient_account_name``: "Send $650 to
Pranav"), a third person's name that the customer and the assistant both say; those are
planted as names, in every turn that marks them. Business details the assistant reads out
(a dentist's name, a listing's street address and phone number) and places (cities, areas)
are ignored, neither way. Everything else a detector takes counts against precision: amounts
and balances, hotel and apartment-complex names, dates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

SGD_PLANTED = {"recipient_account_name": "name"}
SGD_IGNORED = frozenset(
    {"dentist_name", "address", "street_address", "phone_number", "location", "city", "area"}
)


def sgd_dialogue_files(data: Path) -> list[Path]:
    """The ``dialogues_*.json`` files under ``data`` (the SGD folder, or one of its splits)."""
    if data.is_file():
        return [data]
    return sorted(data.glob("**/dialogues_*.json"))


def convert_sgd(data: Path) -> Iterator[dict[str, object]]:
    """Every SGD dialogue under ``data`` with at least one planted name, as a conversation."""
    for path in sgd_dialogue_files(data):
        with path.open(encoding="utf-8") as f:
            dialogues = json.load(f)
        for d in dialogues:
            turns: list[dict[str, str]] = []
            planted: list[dict[str, object]] = []
            ignored: list[dict[str, object]] = []
            for i, turn in enumerate(d["turns"]):
                role = "customer" if turn["speaker"] == "USER" else "agent"
                turns.append({"role": role, "text": turn["utterance"]})
                for frame in turn["frames"]:
                    for slot in frame["slots"]:
                        span = {"turn": i, "start": slot["start"], "end": slot["exclusive_end"]}
                        if slot["slot"] in SGD_PLANTED:
                            planted.append({**span, "type": SGD_PLANTED[slot["slot"]]})
                        elif slot["slot"] in SGD_IGNORED:
                            ignored.append(span)
            yield {
                "id": str(d["dialogue_id"]),
                "source": "sgd/" + "+".join(d["services"]),
                "turns": turns,
                "planted": planted,
                "ignored": ignored,
            }
