"""Gateway fixtures: a migrated PostgreSQL database, a real Tansu broker, a running app."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from winnow.gateway.app import create_app
from winnow.gateway.keys import KeyStore, parse_scopes
from winnow.kafka.broker import TansuBroker
from winnow.settings import Settings
from winnow.store.migrate import upgrade
from winnow.store.store import make_engine

PEPPER = "test-pepper-not-for-production"


@pytest.fixture(scope="session")
def gateway_db(postgres_url: str) -> str:
    """The session's PostgreSQL database, migrated to the newest revision."""
    upgrade(postgres_url)
    return postgres_url


@pytest.fixture(scope="session")
def broker() -> Iterator[TansuBroker]:
    """One Tansu broker for the gateway tests."""
    with TansuBroker() as b:
        yield b


@pytest.fixture
def tenant() -> str:
    """A tenant name no other test uses."""
    return f"t-{uuid.uuid4().hex[:10]}"


def gateway_settings(db: str, bootstrap: str, **overrides: Any) -> Settings:
    """Settings for a test gateway (Tansu refuses idempotent producers)."""
    values: dict[str, Any] = {
        "kafka_bootstrap": bootstrap,
        "kafka_idempotence": False,
        "database_url": db,
        "db_auto_migrate": False,
        "api_key_pepper": SecretStr(PEPPER),
        "topic_prefix": f"gw{uuid.uuid4().hex[:6]}",
        "log_format": "console",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_settings(gateway_db: str, broker: TansuBroker) -> Callable[..., Settings]:
    """Gateway settings on the real database and broker, with overrides."""
    return lambda **overrides: gateway_settings(gateway_db, broker.bootstrap, **overrides)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Gateway settings on the real database and broker."""
    return make_settings()


@contextmanager
def running_client(settings: Settings) -> Iterator[TestClient]:
    """A started app (lifespan run) that answers `/readyz` with 200."""
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 15
        while client.get("/readyz").status_code != 200:
            if time.monotonic() > deadline:
                pytest.fail("gateway never became ready")
            time.sleep(0.05)
        yield client


@pytest.fixture
def start_client() -> Callable[[Settings], AbstractContextManager[TestClient]]:
    """``with start_client(settings) as client:`` runs a gateway with those settings."""
    return running_client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A running gateway."""
    with running_client(settings) as c:
        yield c


@pytest.fixture
def keys(gateway_db: str) -> Iterator[KeyStore]:
    """The key store of the test database, with the test pepper."""
    engine = make_engine(gateway_db)
    yield KeyStore(engine, PEPPER.encode())
    engine.dispose()


@pytest.fixture
def make_key(keys: KeyStore) -> Callable[..., str]:
    """Create a key and return its text: ``make_key(tenant, "ingest,read")``."""

    def make(tenant: str, scopes: str = "ingest,export,read") -> str:
        return keys.create(tenant, parse_scopes(scopes))[1]

    return make
