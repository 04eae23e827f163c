"""`schemas/openapi.json` is the gateway's OpenAPI document; regenerate it when this fails."""

from __future__ import annotations

import json
from pathlib import Path

from winnow.gateway.app import create_app
from winnow.gateway.openapi import render
from winnow.settings import Settings

SPEC = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"


def test_checked_in_spec_matches_app() -> None:
    """The checked-in document equals the app's (`winnow gateway openapi` rewrites it)."""
    current = render(create_app(Settings()).openapi())
    assert SPEC.read_text(encoding="utf-8") == current, (
        "schemas/openapi.json is stale: run `winnow gateway openapi`"
    )


def test_spec_documents_auth_and_limits() -> None:
    """Every route needs the API key, and ingestion documents every refusal status."""
    doc = json.loads(SPEC.read_text(encoding="utf-8"))
    assert doc["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["security"] == [{"APIKeyHeader": []}], path
    codes = set(doc["paths"]["/v1/events"]["post"]["responses"])
    assert codes == {"202", "400", "401", "403", "408", "413", "415", "429", "503"}
    body = doc["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    assert set(body) == {
        "application/json",
        "application/x-ndjson",
        "application/cloudevents+json",
        "application/cloudevents-batch+json",
    }


def test_cli_regenerates(tmp_path: Path) -> None:
    """`winnow gateway openapi --out` writes the same document as the checked-in one."""
    from typer.testing import CliRunner

    from winnow.gateway.cli import gateway_app

    out = tmp_path / "openapi.json"
    result = CliRunner().invoke(gateway_app, ["openapi", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == SPEC.read_text(encoding="utf-8")
