"""Kafka client settings: idempotence is a setting, on by default for real Kafka."""

from __future__ import annotations

from pathlib import Path

from winnow.agents.runtime import build_app
from winnow.kafka.clients import producer_kwargs
from winnow.settings import Settings


class TestIdempotence:
    def test_default_is_idempotent(self) -> None:
        """Real Kafka gets idempotent producers with acks=all unless told otherwise."""
        kwargs = producer_kwargs(Settings())
        assert kwargs["enable_idempotence"] is True and kwargs["acks"] == "all"

    def test_off_for_tansu(self) -> None:
        """With idempotence off (the embedded broker), producers still wait for all replicas."""
        kwargs = producer_kwargs(Settings(kafka_idempotence=False))
        assert "enable_idempotence" not in kwargs and kwargs["acks"] == "all"

    def test_faust_producer_follows_the_setting(self, tmp_path: Path) -> None:
        """The services' faust producer asks for idempotence exactly when the setting is on."""
        on = build_app("validator", Settings(data_dir=tmp_path))
        off = build_app("scorer", Settings(data_dir=tmp_path, kafka_idempotence=False))
        on_extra = on.transport.create_producer()._settings_extra()
        off_extra = off.transport.create_producer()._settings_extra()
        assert on_extra == {"acks": "all", "enable_idempotence": True}
        assert off_extra == {}


class TestFetchWait:
    async def test_setting_replaces_fausts_fixed_fetch_wait(self) -> None:
        """faust builds its aiokafka consumer with fetch_max_wait_ms=1500 whatever the config;
        Winnow's consumer thread applies WINNOW_KAFKA_FETCH_MAX_WAIT_MS instead."""
        for wait_ms in (123, 1500):
            app = build_app("validator", Settings(kafka_fetch_max_wait_ms=wait_ms))
            consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
            try:
                assert consumer._fetch_max_wait_ms == wait_ms
            finally:
                await consumer.stop()
