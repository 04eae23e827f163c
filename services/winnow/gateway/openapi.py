"""The gateway's OpenAPI document: FastAPI's, plus the source event schemas for the request body.

``schemas/openapi.json`` is the checked-in copy; ``export_openapi`` rewrites it and a test fails
when it drifts from the app.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from winnow.events import SOURCE_EVENT_ADAPTER

DEFAULT_PATH = Path("schemas/openapi.json")
_REF = "#/components/schemas/{model}"

EVENTS_BODY: dict[str, Any] = {
    "required": True,
    "description": "One source event, a JSON array of them, or NDJSON (one event per line). "
    "CloudEvents HTTP binding: structured mode (`application/cloudevents+json`, or "
    "`application/cloudevents-batch+json` for an array) and binary mode (the attributes as "
    "`ce-*` headers, percent-encoded, e.g. `ce-specversion`, `ce-id`, `ce-type`, `ce-source`, "
    "`ce-tenant`; the event's `data` alone as the JSON body). "
    "Limits: `WINNOW_GATEWAY_MAX_BODY_BYTES` and `WINNOW_GATEWAY_MAX_BATCH` (413).",
    "content": {
        "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/SourceEvent"}},
        "application/cloudevents-batch+json": {
            "schema": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/components/schemas/SourceEvent"},
            }
        },
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/SourceEvent"},
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/components/schemas/SourceEvent"},
                    },
                ]
            }
        },
        "application/x-ndjson": {
            "schema": {
                "type": "string",
                "pattern": "\\S",
                "description": "One JSON event per line (blank lines are skipped).",
            }
        },
    },
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with the event schemas merged into its components."""
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    event_schema = SOURCE_EVENT_ADAPTER.json_schema(ref_template=_REF)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in event_schema.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["SourceEvent"] = event_schema
    doc["paths"]["/v1/events"]["post"]["requestBody"] = EVENTS_BODY
    return doc


def render(doc: dict[str, Any]) -> str:
    """The document as stable JSON text."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_openapi(path: Path = DEFAULT_PATH) -> Path:
    """Write the gateway's OpenAPI document (default settings) to ``path``."""
    from winnow.gateway.app import create_app
    from winnow.settings import Settings

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(create_app(Settings()).openapi()), encoding="utf-8")
    return path
