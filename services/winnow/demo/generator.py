"""Winnow's own event generator: realistic support tickets, chat feedback and synthetic examples.

Written for this project (no copied data). Deterministic for a seed. Besides good events it plants
the trouble a real stream has, at configurable rates: exact re-sends (duplicates), PII, answers
with unfilled template placeholders, too-short answers, unresolved tickets, and malformed records
(broken JSON, invalid UTF-8, wrong types, missing fields, unknown type, oversize).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from winnow.demo.conversation import conversation
from winnow.topics import SOURCE_FOR_TYPE

MALFORMED_KINDS = (
    "broken_json",
    "invalid_utf8",
    "wrong_types",
    "missing_fields",
    "unknown_type",
    "oversize",
)

_DOMAINS: dict[str, dict[str, list[str]]] = {
    "billing": {
        "q": [
            "I was charged twice for my {plan} subscription this month, can you fix it?",
            "Why is my invoice for {month} higher than usual? I did not change my {plan} plan.",
            "How do I update the credit card you bill for my {plan} account?",
            "Can I switch from monthly to annual billing on the {plan} plan?",
        ],
        "a": [
            "I'm sorry about the double charge. I can see two payments for the {plan} plan on "
            "{month} 3rd; I have refunded the second one and you will see it back on your card "
            "within 5 to 7 business days.",
            "Your {month} invoice includes a prorated charge because two extra seats were added "
            "mid-cycle. From next month you will be billed the regular {plan} price plus those "
            "seats, and I have emailed you an itemised breakdown.",
            "You can change the card under Settings > Billing > Payment method. Once the new card "
            "is saved, the next {plan} invoice will be charged to it automatically.",
            "Yes. Switching to annual billing on {plan} saves you two months; I've scheduled the "
            "change for your next renewal date so you aren't charged twice.",
        ],
    },
    "shipping": {
        "q": [
            "My order {order} still hasn't arrived, it was supposed to come on {weekday}.",
            "Can I change the delivery address for order {order}? I'm moving next week.",
            "The tracking page for {order} has not updated in four days. Is it lost?",
            "Do you ship to {country}, and how long does it take?",
        ],
        "a": [
            "I checked order {order}: the carrier missed the {weekday} slot because of a depot "
            "backlog. It is out for delivery tomorrow, and I've refunded the express shipping fee.",
            "I've updated the delivery address on order {order} since it hasn't left the "
            "warehouse yet. You'll get a new confirmation email with the corrected address.",
            "Order {order} is not lost: the carrier's scanner at the sorting hub failed, which is "
            "why tracking stalled. The parcel has left the hub and should arrive in two days.",
            "Yes, we ship to {country}. Standard delivery takes 5 to 8 business days and express "
            "takes 2 to 3; duties are calculated at checkout so there are no surprises.",
        ],
    },
    "account": {
        "q": [
            "I can't log in, it says my password is wrong but I just reset it.",
            "How do I enable two-factor authentication on my account?",
            "Please delete my account and all of my data.",
            "I want to change the email address on my account.",
        ],
        "a": [
            "Your account was locked after five failed attempts, which is why the new password "
            "didn't work. I've unlocked it; please sign in again with the password you just set.",
            "Go to Settings > Security > Two-factor authentication, choose an authenticator app "
            "and scan the QR code. Keep the recovery codes somewhere safe in case you lose "
            "the phone.",
            "I've started the deletion of your account. All personal data is removed within 30 "
            "days, and you'll receive a confirmation email when it's complete.",
            "You can change it under Settings > Profile > Email. We'll send a verification link "
            "to the new address, and the change takes effect once you click it.",
        ],
    },
    "refunds": {
        "q": [
            "I returned the {item} two weeks ago and still have no refund.",
            "Can I get a refund for the {item}? It stopped working after a week.",
            "How long do refunds take to show up on my card?",
        ],
        "a": [
            "The warehouse received your {item} on Monday and the refund was issued today. It "
            "usually shows on your statement within 3 to 5 business days.",
            "I'm sorry the {item} failed so soon. It's within the 30-day window, so I've "
            "approved a "
            "full refund; you'll get a prepaid return label by email.",
            "Refunds are issued the day we approve them, and banks usually take 3 to 5 business "
            "days to show them. Some card issuers take up to 10 days.",
        ],
    },
    "technical": {
        "q": [
            "The app crashes every time I open the {feature} screen on Android.",
            "Exports to CSV are empty since the last update.",
            "The {feature} page is extremely slow to load today.",
        ],
        "a": [
            "Thanks for the report. This is a known bug in version 4.2 on Android 14 affecting the "
            "{feature} screen; version 4.2.1 with the fix is rolling out today. Updating the app "
            "from the store will solve it.",
            "Version 7.3 introduced a bug where CSV exports skip rows with empty dates. A fix is "
            "deployed; please run the export again, and it will contain all of your rows.",
            "We had a database slowdown this morning that affected the {feature} page. It has "
            "been resolved; if it's still slow, clearing your browser cache should help.",
        ],
    },
}
_SLOTS = {
    "plan": ["Pro", "Team", "Basic", "Enterprise"],
    "month": ["March", "April", "May", "June", "July"],
    "order": ["#A10293", "#B55810", "#C90411", "#D22347", "#E70012"],
    "weekday": ["Monday", "Tuesday", "Friday"],
    "country": ["Canada", "Japan", "Germany", "Brazil"],
    "item": ["headphones", "coffee grinder", "desk lamp", "backpack"],
    "feature": ["reports", "settings", "dashboard", "calendar"],
}
_OPENERS = [
    "",
    "Hi,",
    "Hello!",
    "Good morning.",
    "Hey there,",
    "Hi team,",
    "Urgent:",
    "Hello again,",
]
_CLOSERS = [
    "",
    "Thanks.",
    "Please help.",
    "Thank you in advance!",
    "This is the second time I ask.",
    "Any update would be great.",
    "Cheers",
    "Regards, Sam",
    "Regards, Priya",
    "Thx",
]
_AGENT_OPENERS = [
    "",
    "Thanks for reaching out.",
    "Happy to help!",
    "Thank you for your patience.",
    "Sorry for the trouble.",
    "Good question.",
]
_AGENT_CLOSERS = [
    "",
    "Is there anything else I can help with?",
    "Have a great day!",
    "Let me know if anything else comes up.",
    "Best regards, the support team.",
]
_PLACEHOLDER_ANSWERS = [
    "Thank you for reaching out. Please visit {{Website URL}} and enter your {{Order Number}} to "
    "see the current status of your request.",
    "I understand. To proceed, call us at {{Customer Support Phone Number}} between "
    "{{Customer Support Hours}} and mention your {{Account Type}} account.",
]
_SHORT_ANSWERS = ["ok", "Done.", "fixed", "See FAQ."]
_PII = [
    "You can reach me at jane.doe{n}@example.com.",
    "My phone number is +1 415 555 01{n:02d}.",
    "Card ending 4242, full number 4111 1111 1111 1111.",
    "Call me back on +44 20 7946 09{n:02d} please.",
]
_MODELS = ["acme-assistant-7b", "acme-assistant-13b"]
_TEACHERS = ["teacher-70b-instruct", "teacher-405b"]
_TENANTS = ["acme", "globex", "initech"]


@dataclass(frozen=True, slots=True)
class GeneratedRecord:
    """One source record; ``label`` is ``good``, ``duplicate`` or ``malformed:<kind>``."""

    source: str
    key: bytes
    value: bytes
    label: str


class EventGenerator:
    """Seeded generator of source records."""

    def __init__(
        self,
        *,
        seed: int = 7,
        bad_fraction: float = 0.0,
        duplicate_fraction: float = 0.05,
        pii_fraction: float = 0.1,
        tenants: list[str] | None = None,
        multi_turn_fraction: float = 0.7,
    ) -> None:
        self.rng = random.Random(seed)
        # Real tickets are conversations; the rest keep the old single-exchange shape.
        self.multi_turn_fraction = multi_turn_fraction
        self.bad_fraction = bad_fraction
        self.duplicate_fraction = duplicate_fraction
        self.pii_fraction = pii_fraction
        self.tenants = tenants or _TENANTS
        self._sent: list[dict[str, Any]] = []
        self._clock = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def records(self, n: int) -> Iterator[GeneratedRecord]:
        """``n`` records; about ``bad_fraction`` of them malformed."""
        for _ in range(n):
            roll = self.rng.random()
            if roll < self.bad_fraction:
                kind = self.rng.choice(MALFORMED_KINDS)
                yield self._malformed(kind)
            elif self._sent and roll < self.bad_fraction + self.duplicate_fraction:
                doc = dict(self.rng.choice(self._sent), id=self._new_id())
                yield self._record(doc, "duplicate")
            else:
                doc = self.event()
                self._sent.append(doc)
                yield self._record(doc, "good")

    def event(self) -> dict[str, Any]:
        """One valid source event as a JSON-ready dict."""
        roll = self.rng.random()
        if roll < 0.5:
            return self._ticket()
        if roll < 0.85:
            return self._feedback()
        return self._synthetic()

    # --- builders ---------------------------------------------------------------------------

    def _qa(self) -> tuple[str, str, str]:
        rng = self.rng
        domain = rng.choice(list(_DOMAINS))
        i = rng.randrange(len(_DOMAINS[domain]["q"]))
        slots = {k: rng.choice(v) for k, v in _SLOTS.items()}
        slots["order"] = f"#{rng.choice('ABCDEFGH')}{rng.randrange(10**5, 10**6)}"
        question = " ".join(
            p
            for p in (
                rng.choice(_OPENERS),
                _DOMAINS[domain]["q"][i].format(**slots),
                rng.choice(_CLOSERS),
            )
            if p
        )
        answer = " ".join(
            p
            for p in (
                rng.choice(_AGENT_OPENERS),
                _DOMAINS[domain]["a"][min(i, len(_DOMAINS[domain]["a"]) - 1)].format(**slots),
                rng.choice(_AGENT_CLOSERS),
            )
            if p
        )
        if self.rng.random() < self.pii_fraction:
            question += " " + self.rng.choice(_PII).format(n=self.rng.randrange(100))
        return domain, question, answer

    def _envelope(self, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        self._clock += timedelta(seconds=self.rng.randint(1, 90))
        return {
            "specversion": "1.0",
            "id": self._new_id(),
            "source": f"/{type_.split('.')[1]}/generator",
            "type": type_,
            "time": self._clock.isoformat(),
            "tenant": self.rng.choice(self.tenants),
            "data": data,
        }

    def _ticket(self) -> dict[str, Any]:
        domain, question, answer = self._qa()
        roll = self.rng.random()
        if roll < 0.08:
            answer = self.rng.choice(_PLACEHOLDER_ANSWERS)
        elif roll < 0.12:
            answer = self.rng.choice(_SHORT_ANSWERS)
        status = "unresolved" if self.rng.random() < 0.05 else "resolved"
        start = self._clock
        if self.rng.random() < self.multi_turn_fraction:
            month = self.rng.choice(_SLOTS["month"])
            turns = conversation(self.rng, domain, question, answer, month)
        else:
            turns = [
                {"speaker": "agent", "text": "Hi, thanks for contacting us! How can I help?"},
                {"speaker": "customer", "text": question},
                {"speaker": "agent", "text": answer},
            ]
            if self.rng.random() < 0.4:
                turns.append({"speaker": "customer", "text": "Thanks, that helps!"})
        return self._envelope(
            "winnow.support_ticket.v1",
            {
                "ticket_id": f"T-{self.rng.randrange(10**7):07d}",
                "channel": self.rng.choice(["email", "chat", "web"]),
                "created_at": start.isoformat(),
                "resolved_at": (start + timedelta(minutes=17)).isoformat(),
                "turns": turns,
                "status": status,
                "csat": self.rng.choice([None, 3, 4, 5, 5]),
                "tags": [domain],
                "category": domain,
                "language": "en",
            },
        )

    def _feedback(self) -> dict[str, Any]:
        _, question, answer = self._qa()
        data: dict[str, Any] = {
            "conversation_id": f"c-{self.rng.randrange(10**9)}",
            "model_id": self.rng.choice(_MODELS),
            "messages": [
                {"role": "system", "content": "You are a helpful support assistant."},
                {"role": "user", "content": question},
            ],
            "response": answer,
            "rating": {"thumb": "up"},
            "given_by": "end_user",
        }
        roll = self.rng.random()
        if roll < 0.25:
            data["response"] = "I'm not sure, please contact support."
            data["rating"] = {"thumb": "down"}
            data["correction"] = answer
            data["given_by"] = "reviewer"
        elif roll < 0.35:
            data["response"] = "Please check our help center for more information."
            data["rating"] = {"thumb": "down"}
        elif roll < 0.45:
            data["alternatives"] = [
                {"content": answer + " Anything else I can do?", "preferred": True}
            ]
            data["rating"] = {"score": 3, "scale_max": 5}
        return self._envelope("winnow.chat_feedback.v1", data)

    def _synthetic(self) -> dict[str, Any]:
        _, question, answer = self._qa()
        return self._envelope(
            "winnow.synthetic_example.v1",
            {
                "generator_model": self.rng.choice(_TEACHERS),
                "method": self.rng.choice(["teacher", "self_instruct"]),
                "prompt": question,
                "response": answer,
            },
        )

    def _malformed(self, kind: str) -> GeneratedRecord:
        doc = self.event()
        source = SOURCE_FOR_TYPE[doc["type"]]
        if kind == "broken_json":
            value = json.dumps(doc).encode()[:-7]
        elif kind == "invalid_utf8":
            value = json.dumps(doc).encode().replace(b"e", b"\xff\xfe", 1)
        elif kind == "wrong_types":
            doc["data"] = {**doc["data"], **{next(iter(doc["data"])): 12345}}
            doc["time"] = "not a time"
            value = json.dumps(doc).encode()
        elif kind == "missing_fields":
            del doc["tenant"]
            value = json.dumps(doc).encode()
        elif kind == "unknown_type":
            doc["type"] = "winnow.phone_call.v9"
            value = json.dumps(doc).encode()
        else:  # oversize
            doc["data"]["padding"] = "x" * 300_000
            value = json.dumps(doc).encode()
        return GeneratedRecord(source, doc["id"].encode(), value, f"malformed:{kind}")

    def _record(self, doc: dict[str, Any], label: str) -> GeneratedRecord:
        value = json.dumps(doc, ensure_ascii=False).encode()
        return GeneratedRecord(SOURCE_FOR_TYPE[doc["type"]], doc["id"].encode(), value, label)

    def _new_id(self) -> str:
        # Content follows the seed; ids never repeat, so two runs are two sets of events.
        return str(uuid.uuid4())
