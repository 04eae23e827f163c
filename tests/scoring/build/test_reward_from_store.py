"""``winnow models train reward-cross --from-store``: a store's preference pairs join training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from winnow.cli.main import app
from winnow.example import Decision, Example
from winnow.scoring.build import reward_job
from winnow.scoring.build.exceptions import TrainingDataError
from winnow.scoring.build.reward_job import CrossJob, run_job, store_pairs
from winnow.scoring.build.reward_pairs import write_pairs
from winnow.settings import get_settings
from winnow.store.migrate import upgrade
from winnow.store.store import ExampleStore
from winnow.testing.examples import make_example

TENANT = "acme"


def _accepted(ex: Example) -> Example:
    return ex.model_copy(update={"decision": Decision(status="accepted")})


def _store(tmp_path: Path, preferences: int) -> str:
    """A migrated SQLite store with ``preferences`` accepted preference examples and one SFT."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    examples = [
        make_example(
            f"Where is my order {i}?",
            f"Order {i} left our warehouse today and arrives on Friday.",
            rejected="Please contact support.",
            tenant=TENANT,
            domain="delivery",
        )
        for i in range(preferences)
    ]
    examples.append(make_example("Hello?", "Hi, how can I help?", tenant=TENANT))
    store = ExampleStore(url)
    try:
        store.write_decisions([_accepted(e) for e in examples])
    finally:
        store.close()
    return url


def _shared_pairs(work: Path) -> None:
    """Stand-ins for the pairs built from the shared datasets (one tiny pair per split)."""
    (work / "pairs").mkdir(parents=True)
    shared = {"context": "Customer: hi", "chosen": "Hello!", "rejected": "...", "source": "x"}
    for split in ("train", "val", "test"):
        write_pairs(work / "pairs" / f"pairs_{split}.jsonl.gz", [dict(shared, domain="other")])


def _job(tmp_path: Path, url: str, min_pairs: int) -> CrossJob:
    """A job whose shared-data pairs are already built."""
    work = tmp_path / "work"
    _shared_pairs(work)
    return CrossJob(
        data_root=tmp_path,
        models_dir=tmp_path / "models",
        work_dir=work,
        base=tmp_path,
        store_url=url,
        tenant=TENANT,
        min_store_pairs=min_pairs,
    )


def test_store_pairs_reads_preferences_only(tmp_path: Path) -> None:
    """Accepted preference examples become pairs with their context; SFT examples do not."""
    pairs = store_pairs(_store(tmp_path, 3), TENANT)
    assert len(pairs) == 3
    assert all(p["rejected"] == "Please contact support." for p in pairs)
    assert all(p["context"].startswith("Customer: Where is my order") for p in pairs)
    assert {p["domain"] for p in pairs} == {"delivery"}
    assert store_pairs(_store(tmp_path / "other", 3), "nobody") == []


def test_store_pairs_reach_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's pairs are split by prompt and handed to training beside the shared ones."""
    seen: dict[str, list[dict[str, Any]]] = {}

    def fake_train(_job: CrossJob, splits: dict[str, list[Any]], out: Path, _log: Any) -> None:
        seen.update(splits)

    monkeypatch.setattr(reward_job, "train_run", fake_train)
    monkeypatch.setattr(reward_job, "publish", lambda *_a: {"replaced": False})
    run_job(_job(tmp_path, _store(tmp_path, 30), min_pairs=20), lambda _m: None)
    from_store = [p for split in seen.values() for p in split if p["source"] == f"store/{TENANT}"]
    assert len(from_store) == 30
    assert len(seen["train"]) > 1  # the shared pair plus most store pairs
    assert all("_key" not in p for p in from_store)


def test_too_few_store_pairs_is_a_clear_error(tmp_path: Path) -> None:
    """A store with fewer pairs than the minimum stops before any training."""
    with pytest.raises(TrainingDataError, match="holds 3 preference pairs for tenant 'acme'"):
        run_job(_job(tmp_path, _store(tmp_path, 3), min_pairs=20), lambda _m: None)


def test_cli_reports_too_few_pairs_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the CLI the same case is a one-line error and exit code 2, not a traceback."""
    url = _store(tmp_path, 2)
    data_dir = tmp_path / "var"
    _shared_pairs(data_dir / "cache" / "reward-cross")
    monkeypatch.setattr("winnow.scoring.build.cli._setup", lambda: None)
    monkeypatch.setenv("WINNOW_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "models",
                "train",
                "reward-cross",
                "--from-store",
                url,
                "--tenant",
                TENANT,
                "--data-root",
                str(tmp_path),
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "holds 2 preference pairs" in result.stderr
    assert "Traceback" not in result.output


def test_from_store_on_the_head_points_to_reward_cross() -> None:
    """`train reward --from-store` says which command trains on store pairs."""
    result = CliRunner().invoke(
        app, ["models", "train", "reward", "--from-store", "sqlite:///x.db"]
    )
    assert result.exit_code != 0
    assert "reward-cross --from-store" in result.output
