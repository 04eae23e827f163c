"""Write a Zendesk export of N tickets (the shape ``zendesk_tickets.json`` shows, taken from the
Tickets, Ticket Comments and Users API references) around real Bitext questions and answers.

Usage: ``python tests/data/helpdesk/make_zendesk_export.py [N] [OUT]`` (1000, zendesk-export.json).
Seeded: the same N gives the same file.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BITEXT = (
    Path(__file__).resolve().parents[1]
    / "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
)
CHANNELS = ["email", "web", "chat", "voice", "api", "twitter", "help_center"]
STATUSES = ["solved"] * 6 + ["closed"] * 2 + ["open", "pending", "hold"]
SCORES = ["good"] * 5 + ["bad", "offered", "unoffered"]
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def export(n: int, seed: int = 0) -> dict[str, Any]:
    """The export document: ``tickets`` (comments embedded) and the ``users`` side-load."""
    with BITEXT.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rng = random.Random(seed)
    agents = [{"id": 900 + i, "name": f"Agent {i}", "role": "agent"} for i in range(5)]
    users: list[dict[str, Any]] = list(agents)
    tickets = []
    for i in range(n):
        row = rows[i % len(rows)]
        requester = 100_000 + i
        users.append({"id": requester, "name": f"Customer {i}", "role": "end-user"})
        agent = rng.choice(agents)["id"]
        opened = T0 + timedelta(minutes=17 * i)
        comments = [
            {
                "id": 3 * i,
                "author_id": requester,
                "public": True,
                "body": row["instruction"],
                "created_at": _stamp(opened),
            },
        ]
        if rng.random() < 0.3:
            comments.append(
                {
                    "id": 3 * i + 1,
                    "author_id": agent,
                    "public": False,
                    "body": "Internal: checked the account.",
                    "created_at": _stamp(opened + timedelta(minutes=5)),
                }
            )
        comments.append(
            {
                "id": 3 * i + 2,
                "author_id": agent,
                "public": True,
                "body": row["response"],
                "created_at": _stamp(opened + timedelta(minutes=9)),
            }
        )
        tickets.append(
            {
                "id": 50_000 + i,
                "subject": row["instruction"][:60],
                "type": rng.choice(["question", "incident", "problem", "task"]),
                "priority": rng.choice(["low", "normal", "high", "urgent"]),
                "status": rng.choice(STATUSES),
                "requester_id": requester,
                "assignee_id": agent,
                "tags": [row["intent"], row["category"].lower()],
                "custom_fields": [{"id": 27642, "value": row["category"].lower()}],
                "satisfaction_rating": {"score": rng.choice(SCORES)},
                "via": {"channel": rng.choice(CHANNELS)},
                "brand_id": 1,
                "created_at": _stamp(opened),
                "updated_at": _stamp(opened + timedelta(minutes=30)),
                "comments": comments,
            }
        )
    return {"tickets": tickets, "users": users, "count": n}


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("zendesk-export.json")
    out.write_text(json.dumps(export(count)), encoding="utf-8")
    print(f"wrote {count} Zendesk tickets to {out}")
