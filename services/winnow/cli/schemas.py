"""JSON Schemas of Winnow's records, written into ``schemas/`` and checked in CI for drift."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from winnow.events import (
    AlertEvent,
    ChatFeedbackEvent,
    DeadLetter,
    RetrainEvent,
    SupportTicketEvent,
    SyntheticExampleEvent,
)
from winnow.example import Example

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "winnow.support_ticket.v1.json": SupportTicketEvent,
    "winnow.chat_feedback.v1.json": ChatFeedbackEvent,
    "winnow.synthetic_example.v1.json": SyntheticExampleEvent,
    "winnow.example.v1.json": Example,
    "winnow.dead_letter.v1.json": DeadLetter,
    "winnow.retrain.v1.json": RetrainEvent,
    "winnow.alert.v1.json": AlertEvent,
}


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text for every exported model."""
    out = {}
    for name, model in SCHEMA_MODELS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"https://winnow.dev/schemas/{name}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def stale_schemas(directory: Path) -> list[str]:
    """Names of schema files that are missing or differ from the models."""
    return [
        name
        for name, text in render_schemas().items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]


def export_schemas(directory: Path) -> list[str]:
    """Write every schema into ``directory``; return the names written."""
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for name, text in rendered.items():
        (directory / name).write_text(text)
    return list(rendered)
