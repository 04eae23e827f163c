"""``winnow status``: produced vs accounted per source and tenant, lag per service, ``--wait``.

Produced counts come from the source topics' offsets, accounted ones from the store (curated,
rejected, dead-lettered). ``--wait`` blocks until every produced event is accounted and the
pipeline's consumer groups have no lag: exit 0 then, 1 at the timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from winnow.settings import Settings, get_settings

PIPELINE_GROUPS = ("validator", "scorer", "curator")
"""Services whose lag must reach zero before every produced event can be accounted."""


@dataclass
class Status:
    """One reading of the pipeline's progress."""

    since: datetime | None
    produced: dict[str, int]
    accounted: dict[tuple[str, str], dict[str, int]]
    lag: dict[str, int]

    @property
    def imported_dead_letters(self) -> int:
        """Records ``ingest --from`` could not convert: written straight to the DLQ."""
        from winnow.store.accounting import IMPORTED

        return sum(c["dead_lettered"] for (s, _), c in self.accounted.items() if s == IMPORTED)

    @property
    def produced_total(self) -> int:
        """Records on every source topic since ``since``, plus imports sent straight to the DLQ."""
        return sum(self.produced.values()) + self.imported_dead_letters

    @property
    def accounted_total(self) -> int:
        """Events with a final outcome in the store since ``since``."""
        return sum(c["total"] for c in self.accounted.values())

    @property
    def done(self) -> bool:
        """Everything produced is accounted and the pipeline has caught up."""
        pipeline_lag = sum(self.lag.get(g, 0) for g in PIPELINE_GROUPS)
        return self.accounted_total >= self.produced_total and pipeline_lag == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "produced": self.produced,
            "produced_total": self.produced_total,
            "imported_dead_letters": self.imported_dead_letters,
            "accounted": [
                {"source": s, "tenant": t, **counts}
                for (s, t), counts in sorted(self.accounted.items())
            ],
            "accounted_total": self.accounted_total,
            "lag": self.lag,
            "done": self.done,
        }


def read_status(settings: Settings, since: datetime | None) -> Status:
    """Offsets, store outcomes and lags, read once."""
    from sqlalchemy.exc import SQLAlchemyError

    from winnow.errors import StoreError
    from winnow.kafka.offsets import group_lags, produced_since
    from winnow.store.accounting import account
    from winnow.store.store import make_engine
    from winnow.topics import TopicLayout

    layout = TopicLayout.from_settings(settings)
    produced = asyncio.run(produced_since(settings, layout.sources, since))
    inputs = {
        "validator": layout.sources,
        "scorer": [layout.candidates],
        "curator": [layout.scored],
    }
    groups = {f"{settings.topic_prefix}-{name}": topics for name, topics in inputs.items()}
    lags = asyncio.run(group_lags(settings, groups))
    engine = make_engine(settings.database_url)
    try:
        outcomes = account(engine, since, settings.topic_prefix)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read the store at {engine.url.render_as_string(hide_password=True)} "
            f"({type(exc).__name__}): set WINNOW_DATABASE_URL to the store `winnow up` writes to"
        ) from exc
    finally:
        engine.dispose()
    prefix = f"{settings.topic_prefix}-"
    return Status(
        since=since,
        produced={t.removeprefix(f"{prefix[:-1]}.sources."): n for t, n in produced.items()},
        accounted={
            key: {
                "curated": c.curated,
                "rejected": c.rejected,
                "dead_lettered": c.dead_lettered,
                "pending": c.pending,
                "total": c.total,
            }
            for key, c in outcomes.items()
        },
        lag={g.group.removeprefix(prefix): g.lag for g in lags},
    )


def render(status: Status) -> str:
    """The human table."""
    since = status.since.isoformat(timespec="seconds") if status.since else "the start"
    lines = [f"since {since}"]
    produced = "  ".join(f"{s} {n}" for s, n in status.produced.items())
    if status.imported_dead_letters:
        produced += f"  (+{status.imported_dead_letters} straight to the DLQ at import)"
    lines.append("produced   " + produced)
    lines.append(f"{'source':<10} {'tenant':<16} curated rejected dlq pending")
    for (source, tenant), c in sorted(status.accounted.items()):
        lines.append(
            f"{source:<10} {tenant:<16} {c['curated']:7d} {c['rejected']:8d} "
            f"{c['dead_lettered']:3d} {c['pending']:7d}"
        )
    lines.append(f"accounted  {status.accounted_total} of {status.produced_total} produced")
    lines.append("lag        " + "  ".join(f"{g} {n}" for g, n in status.lag.items()))
    return "\n".join(lines)


def status(
    since: Annotated[
        datetime | None,
        typer.Option(
            help="Count from this moment (ISO 8601). Default: when the embedded broker of the "
            "running `winnow up` started, else everything retained."
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Block until everything produced is accounted.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits before exit 1.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Events produced, accounted (curated / rejected / dead-lettered) and lag per service."""
    from winnow.cli.errors import exit_on_error
    from winnow.kafka.discovery import client_settings, one_line_errors, read_state

    base = get_settings()
    settings = client_settings(base)
    if since is None:
        state = read_state(base.data_dir)
        since = state.started_at if state is not None else None
    elif since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    deadline = time.monotonic() + timeout
    with exit_on_error(), one_line_errors(settings):
        current = read_status(settings, since)
        while wait and not current.done and time.monotonic() < deadline:
            time.sleep(1.0)
            current = read_status(settings, since)
    typer.echo(json.dumps(current.as_dict(), sort_keys=True) if as_json else render(current))
    if wait and not current.done:
        typer.echo(
            f"not done after {timeout:.0f} s: {current.accounted_total} of "
            f"{current.produced_total} accounted",
            err=True,
        )
        raise typer.Exit(1)
