"""Revision 0003 adds the snapshots table and removes it again on downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from winnow.store import ExampleStore
from winnow.store.migrate import alembic_config, is_current, upgrade


def test_0003_round_trip(store: ExampleStore) -> None:
    """Downgrading to 0002 drops ``snapshots``; upgrading restores it at head."""
    assert "snapshots" in inspect(store.engine).get_table_names()
    command.downgrade(alembic_config(store.url), "0002")
    assert "snapshots" not in inspect(store.engine).get_table_names()
    upgrade(store.url)
    assert "snapshots" in inspect(store.engine).get_table_names() and is_current(store.url)
