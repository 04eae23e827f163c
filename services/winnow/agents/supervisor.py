"""``winnow up``: the embedded broker and every service as child processes, under one supervisor.

Children that die are restarted with back-off; Ctrl-C (or SIGTERM) stops them all cleanly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from winnow.agents import SERVICES
from winnow.errors import WinnowError
from winnow.kafka.admin import ensure_topics
from winnow.kafka.broker import TansuBroker, free_port
from winnow.kafka.discovery import clear_state, write_state
from winnow.settings import Settings
from winnow.store.migrate import upgrade

log = structlog.get_logger(__name__)

# Tansu (tests and demo only) joins groups in about half the session timeout; real Kafka's
# defaults stay in Settings.
EMBEDDED_BROKER_ENV = {
    "WINNOW_KAFKA_IDEMPOTENCE": "false",
    "WINNOW_KAFKA_SESSION_TIMEOUT_S": "6",
    "WINNOW_KAFKA_HEARTBEAT_S": "0.5",
    "WINNOW_KAFKA_REBALANCE_TIMEOUT_S": "6",
}


@dataclass
class Child:
    """One supervised service process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    log_path: Path | None = None


@dataclass
class Supervisor:
    """Starts the broker (optionally), migrates the store, creates topics, runs the services."""

    settings: Settings
    services: tuple[str, ...] = SERVICES
    embedded_broker: bool = True
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    broker: TansuBroker | None = None
    children: list[Child] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    prepare: bool = True
    """Migrate the store and create topics before starting (off for a scorer worker group)."""

    def start(self) -> Supervisor:
        """Bring everything up (returns once processes are started, not yet ready)."""
        env = dict(self.extra_env)
        if self.embedded_broker:
            self.broker = TansuBroker().start()
            env.update(EMBEDDED_BROKER_ENV, WINNOW_KAFKA_BOOTSTRAP=self.broker.bootstrap)
            # Client commands in other terminals (ingest, status) find the broker through this.
            state = write_state(
                self.settings.data_dir, self.broker.bootstrap, self.settings.database_url
            )
            log.info("broker_started", bootstrap=self.broker.bootstrap, state_file=str(state))
        # Children get exactly the settings this supervisor runs with, overrides included.
        self.env = {
            **os.environ,
            "WINNOW_DATABASE_URL": self.settings.database_url,
            "WINNOW_DATA_DIR": str(self.settings.data_dir.resolve()),
            "WINNOW_DB_AUTO_MIGRATE": "false",
            **env,
        }
        settings = self.settings.model_copy(
            update={
                "kafka_bootstrap": env.get("WINNOW_KAFKA_BOOTSTRAP", self.settings.kafka_bootstrap)
            }
        )
        if self.prepare:
            upgrade(settings.database_url)
            asyncio.run(ensure_topics(settings))
        for i, name in enumerate(self.services):
            child = Child(name, free_port())
            if self.log_dir:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                repeated = self.services.count(name) > 1
                child.log_path = self.log_dir / (f"{name}-{i}.log" if repeated else f"{name}.log")
            self.children.append(child)
            self._spawn(child)
        return self

    def _spawn(self, child: Child) -> None:
        env = {**self.env, "WINNOW_WEB_PORT": str(child.port)}
        out = open(child.log_path, "ab") if child.log_path else subprocess.DEVNULL  # noqa: SIM115
        child.proc = subprocess.Popen(
            [sys.executable, "-m", "winnow", "serve", child.name],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if child.log_path else subprocess.DEVNULL,
        )
        log.info("service_started", service=child.name, pid=child.proc.pid, port=child.port)

    def poll(self) -> None:
        """Restart children that exited, with exponential back-off."""
        now = time.monotonic()
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                log.warning("service_exited", service=child.name, code=child.proc.returncode)
                child.proc = None
                child.restarts += 1
                child.next_start = now + min(2.0**child.restarts, 30.0)
            if child.proc is None and now >= child.next_start:
                self._spawn(child)

    def ready(self) -> dict[str, bool]:
        """Each service's /readyz answer."""
        return {c.name: http_ok(f"http://127.0.0.1:{c.port}/readyz") for c in self.children}

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Block until every service answers ready; raise with the laggards' names if not."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.poll()
            states = self.ready()
            if all(states.values()):
                return
            if time.monotonic() > deadline:
                late = [n for n, ok in states.items() if not ok]
                raise WinnowError(f"services not ready after {timeout_s:.0f} s: {late}")
            time.sleep(0.25)

    def run_forever(self) -> None:
        """Supervise until SIGINT or SIGTERM (see ``stop_on_signals``)."""
        try:
            while True:
                self.poll()
                time.sleep(0.5)
        except KeyboardInterrupt:
            log.info("supervisor_stopping")

    def stop(self) -> None:
        """SIGTERM every child, SIGKILL those still alive after 10 s, then stop the broker."""
        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                child.proc.terminate()
        deadline = time.monotonic() + 10
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
            child.proc = None
        if self.broker is not None:
            clear_state(self.settings.data_dir)
            self.broker.stop()
            self.broker = None

    def __enter__(self) -> Supervisor:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()


def stop_on_signals() -> None:
    """Turn SIGTERM and SIGINT into ``KeyboardInterrupt`` so ``with Supervisor(...)`` cleans up.

    Set explicitly: a process started in the background of a shell inherits an ignored SIGINT.
    """

    def _raise(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGINT, _raise)


def http_ok(url: str) -> bool:
    """True when ``url`` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False
