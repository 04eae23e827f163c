"""Finding the embedded broker: ``winnow up`` records where it listens, client commands read it.

``winnow up`` (and ``winnow broker``) put Tansu on a free port and write ``broker.json`` under the
data dir; ``winnow ingest``, ``status``, ``topics`` and ``generate --produce`` use that address
when ``WINNOW_KAFKA_BOOTSTRAP`` is not set, and turn idempotence off for it (Tansu refuses
``InitProducerId``). Client errors become one line naming the setting to fix.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.errors import KafkaConnectionError, KafkaError

from winnow.errors import BrokerError
from winnow.settings import Settings

STATE_FILE = "broker.json"
"""Name of the state file under ``WINNOW_DATA_DIR``."""


@dataclass(frozen=True)
class BrokerState:
    """Where the embedded broker of a running ``winnow up`` listens, and who started it."""

    bootstrap: str
    pid: int
    started_at: datetime
    """When the broker started: its memory storage holds nothing older."""
    database_url: str | None = None
    """The store the services of that ``winnow up`` write to."""


def state_path(data_dir: Path) -> Path:
    """The state file's path under ``data_dir``."""
    return data_dir / STATE_FILE


def write_state(data_dir: Path, bootstrap: str, database_url: str | None = None) -> Path:
    """Record ``bootstrap`` as this process's embedded broker; return the file written."""
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    doc = {
        "bootstrap": bootstrap,
        "pid": os.getpid(),
        "started_at": datetime.now(UTC).isoformat(),
        "database_url": database_url,
    }
    # Owner-only: the database URL may carry a password.
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path


def clear_state(data_dir: Path) -> None:
    """Remove the state file if this process wrote it (another ``up`` may own it now)."""
    state = read_state(data_dir, check_alive=False)
    if state is not None and state.pid == os.getpid():
        state_path(data_dir).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def read_state(data_dir: Path, *, check_alive: bool = True) -> BrokerState | None:
    """The recorded broker; None when there is no file, it is unreadable or its owner died."""
    try:
        doc = json.loads(state_path(data_dir).read_text(encoding="utf-8"))
        state = BrokerState(
            bootstrap=str(doc["bootstrap"]),
            pid=int(doc["pid"]),
            started_at=datetime.fromisoformat(doc["started_at"]),
            database_url=doc.get("database_url"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if check_alive and not _alive(state.pid):
        return None
    return state


def client_settings(settings: Settings) -> Settings:
    """``settings`` aimed at the running embedded broker unless a bootstrap was set explicitly.

    An explicit ``WINNOW_KAFKA_BOOTSTRAP`` wins; the embedded broker's address also turns
    idempotence off when that address is the one in use.
    """
    state = read_state(settings.data_dir)
    if state is None:
        return settings
    explicit = "kafka_bootstrap" in settings.model_fields_set
    if explicit and settings.kafka_bootstrap != state.bootstrap:
        return settings
    update: dict[str, object] = {"kafka_bootstrap": state.bootstrap, "kafka_idempotence": False}
    if state.database_url and "database_url" not in settings.model_fields_set:
        update["database_url"] = state.database_url
    return settings.model_copy(update=update)


@contextlib.contextmanager
def one_line_errors(settings: Settings) -> Iterator[None]:
    """Turn Kafka client failures into a :class:`BrokerError` whose message names the fix.

    aiokafka's own error log lines are held back meanwhile: the one line says it all.
    """
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        yield
    except KafkaConnectionError as exc:
        raise BrokerError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}: start `winnow up` "
            f"(its address is recorded in {state_path(settings.data_dir)}) or set "
            "WINNOW_KAFKA_BOOTSTRAP to your brokers"
        ) from exc
    except KafkaError as exc:
        hint = (
            "; if this broker does not support idempotent producers (the embedded Tansu does "
            "not), set WINNOW_KAFKA_IDEMPOTENCE=false"
            if settings.kafka_idempotence
            else ""
        )
        raise BrokerError(
            f"Kafka at {settings.kafka_bootstrap} refused the request: "
            f"{type(exc).__name__}: {exc}{hint}"
        ) from exc
    finally:
        client_log.setLevel(level)
