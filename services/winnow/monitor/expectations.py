"""Great Expectations 1.x suites, kept as JSON files, validated on one window's rows.

GE's import takes seconds, so nothing here imports it at module level: ``SuiteRunner`` imports
it on first use, once per process, and keeps one ephemeral context (in memory: no files, no
network, progress bars off). Suites are the JSON that ``ExpectationSuite.to_json_dict()``
writes; ``meta.winnow_outcomes`` says which rows a suite sees (``curated``, ``rejected``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_SUITES_DIR = Path(__file__).with_name("suites")
_lock = threading.Lock()
_batch_definition: Any = None


@dataclass(frozen=True)
class FailedExpectation:
    """One expectation that did not hold."""

    type: str
    column: str | None
    unexpected_count: int | None
    exception: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "column": self.column,
            "unexpected_count": self.unexpected_count,
            "exception": self.exception,
        }


@dataclass(frozen=True)
class SuiteResult:
    """The outcome of one suite on one window."""

    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: list[FailedExpectation] = field(default_factory=list)
    duration_s: float = 0.0
    validated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _gx_batch_definition() -> Any:
    """The process-wide pandas batch definition (imports GE on the first call only)."""
    global _batch_definition
    with _lock:
        if _batch_definition is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(
                globally=False, metric_calculations=False
            )
            asset = context.data_sources.add_pandas("winnow_monitor").add_dataframe_asset("window")
            _batch_definition = asset.add_batch_definition_whole_dataframe("window")
        return _batch_definition


def warm_up() -> float:
    """Import GE and build the context now (seconds taken); call it off the event loop."""
    start = time.perf_counter()
    _gx_batch_definition()
    return time.perf_counter() - start


def load_suite_documents(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """Suite name -> suite JSON of every ``*.json`` in the directory (no GE import)."""
    docs = {}
    for path in sorted((directory or DEFAULT_SUITES_DIR).glob("*.json")):
        doc = json.loads(path.read_text())
        docs[str(doc.get("name") or path.stem)] = doc
    return docs


class SuiteRunner:
    """Validates rows against every suite of a directory."""

    def __init__(self, directory: Path | None = None) -> None:
        self.documents = load_suite_documents(directory)
        self._suites: dict[str, Any] = {}

    def _suite(self, name: str) -> Any:
        if name not in self._suites:
            import great_expectations as gx

            self._suites[name] = gx.ExpectationSuite(**self.documents[name])
        return self._suites[name]

    def validate(self, rows: list[dict[str, Any]]) -> list[SuiteResult]:
        """Each suite's result on the rows it applies to (suites with no rows are skipped)."""
        results = []
        for name, doc in self.documents.items():
            outcomes = (doc.get("meta") or {}).get("winnow_outcomes") or ["curated"]
            mine = [r for r in rows if r.get("outcome") in outcomes]
            if mine:
                results.append(self.validate_suite(name, mine))
        return results

    def validate_suite(self, name: str, rows: list[dict[str, Any]]) -> SuiteResult:
        """One suite's result on the given rows."""
        import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

        start = time.perf_counter()
        batch_definition = _gx_batch_definition()
        suite = self._suite(name)
        frame = pd.DataFrame(rows)
        # Columns a suite may meet absent (model scores when the scorer runs heuristics only).
        for column in (self.documents[name].get("meta") or {}).get("winnow_optional_columns", []):
            if column not in frame.columns:
                frame[column] = None
        with _lock:  # one ephemeral context, shared: validations run one at a time
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            outcome = batch.validate(suite).to_json_dict()
        failed = []
        for r in outcome["results"]:
            if r["success"]:
                continue
            config = r["expectation_config"]
            exc = (r.get("exception_info") or {}).get("exception_message")
            failed.append(
                FailedExpectation(
                    type=config["type"],
                    column=config["kwargs"].get("column"),
                    unexpected_count=(r.get("result") or {}).get("unexpected_count"),
                    exception=str(exc)[:300] if exc else None,
                )
            )
        return SuiteResult(
            suite=name,
            success=bool(outcome["success"]),
            rows=len(rows),
            evaluated=int(outcome["statistics"]["evaluated_expectations"]),
            failed=failed,
            duration_s=time.perf_counter() - start,
        )
