"""Secure defaults: no gateway without a pepper, services bind WINNOW_WEB_HOST."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from winnow.agents.runtime import build_app
from winnow.errors import ConfigurationError
from winnow.gateway.app import _pepper, create_app, run
from winnow.settings import Settings


def test_gateway_refuses_to_start_without_a_pepper(tmp_path: Path) -> None:
    """Outside development, serving fails with one line naming the settings to set."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'w.db'}")
    assert settings.env == "production"
    with pytest.raises(ConfigurationError, match="WINNOW_API_KEY_PEPPER_FILE"):
        _pepper(settings)
    with pytest.raises(SystemExit, match="no API key pepper"):
        run(settings)
    # The schema export builds the app without serving it, so it still works.
    assert "/v1/events" in create_app(settings).openapi()["paths"]


def test_gateway_lifespan_refuses_too(tmp_path: Path) -> None:
    """Another ASGI server starting the app hits the same refusal in its lifespan."""
    from fastapi.testclient import TestClient

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'w.db'}")
    with pytest.raises(ConfigurationError), TestClient(create_app(settings)):
        pass


def test_development_and_a_pepper_are_accepted(tmp_path: Path) -> None:
    """WINNOW_ENV=development runs with an empty pepper; a set pepper is used as given."""
    assert _pepper(Settings(env="development")) == b""
    assert _pepper(Settings(api_key_pepper=SecretStr("p"))) == b"p"


def test_faust_web_server_binds_web_host(tmp_path: Path) -> None:
    """faust binds web_bind (default 0.0.0.0): the services set it to WINNOW_WEB_HOST."""
    app = build_app("validator", Settings(data_dir=tmp_path))
    assert app.conf.web_bind == "127.0.0.1"
    app = build_app("validator", Settings(data_dir=tmp_path, web_host="10.1.2.3"))
    assert app.conf.web_bind == "10.1.2.3"
