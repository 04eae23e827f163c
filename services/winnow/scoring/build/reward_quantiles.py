"""``winnow models reward-quantiles``: per-domain reference rewards from scored examples or a store.

Scored examples (``winnow score`` output, or ``winnow models eval-tickets``' ``*.scored.jsonl``)
are the better reference: a store holds what curation accepted, so its low tail is already cut
by the thresholds the table is meant to set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from winnow.example import Example
from winnow.scoring.build.exceptions import TrainingDataError
from winnow.scoring.quantiles import RewardQuantiles, build_quantiles

Row = tuple[str | None, float, str]
"""(domain, reward, reward model version)."""


def _row(ex: Example) -> Row | None:
    reward = ex.scores.get("reward")
    version = ex.model_versions.get("reward")
    if reward is None or version is None:
        return None
    return ex.domain, float(reward), version


def rows_from_scored(path: Path) -> Iterator[Row]:
    """Rows of a JSONL file of scored examples; lines without a reward are skipped."""
    if not path.is_file():
        raise TrainingDataError(f"scored examples not found: {path}")
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = _row(Example.model_validate_json(line))
            except ValueError as exc:
                raise TrainingDataError(f"{path}:{number}: not a scored example") from exc
            if row is not None:
                yield row


def rows_from_store(url: str, tenant: str) -> Iterator[Row]:
    """Rows of the examples a store holds for ``tenant``."""
    from winnow.store.queries import ExampleQuery, iter_examples
    from winnow.store.store import ExampleStore

    store = ExampleStore(url)
    try:
        for stored in iter_examples(store, ExampleQuery(tenant)):
            row = _row(stored.example)
            if row is not None:
                yield row
    finally:
        store.close()


def quantile_table(rows: Iterator[Row], source: str, min_per_domain: int) -> RewardQuantiles:
    """The table of ``rows``, which must all come from one reward model."""
    collected = list(rows)
    versions = sorted({v for _, _, v in collected})
    if len(versions) > 1:
        raise TrainingDataError(
            f"rewards from {len(versions)} reward models ({', '.join(versions)}): "
            "score the examples with one model"
        )
    if not versions:
        raise TrainingDataError(f"no scored rewards in {source}")
    try:
        return build_quantiles(
            ((d, r) for d, r, _ in collected),
            versions[0],
            min_per_domain=min_per_domain,
            source=source,
        )
    except ValueError as exc:
        raise TrainingDataError(str(exc)) from exc
