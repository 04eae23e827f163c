"""``winnow bench e2e|store|dedup|growth|replicas`` at tiny sizes: invariants, never timings.

Each command runs for real (PostgreSQL, and the broker for e2e) on a scratch database; the
tests check what was counted, that ratios come from the measured numbers, and that
``--append-docs`` appends a section and writes a PNG, on a temporary copy of the docs.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from winnow.bench import dedup, dedup_peers, growth, replicas, store
from winnow.bench.report import BenchResult, Figure, Goal, append_to_docs, machine_info
from winnow.cli.main import app
from winnow.testing.fixtures import DEFAULT_ADMIN_URL, fresh_postgres_database

REPO = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("WINNOW_TEST_POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A temporary copy of docs/benchmarks.md (its img/ folder beside it)."""
    copy = tmp_path / "docs" / "benchmarks.md"
    copy.parent.mkdir()
    shutil.copy(REPO / "docs" / "benchmarks.md", copy)
    return copy


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """An empty PostgreSQL database for one test."""
    with fresh_postgres_database(ADMIN_URL) as url:
        yield url


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(app, ["bench", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _assert_appended(docs: Path, before: str, name: str) -> str:
    """The old text is kept whole, one section follows it, and its PNG exists."""
    after = docs.read_text()
    assert after.startswith(before)
    section = after[len(before) :]
    assert section.count(f"## `winnow bench {name}`") == 1
    assert f"Command: `winnow bench {name}" in section
    assert "| figure | Winnow | ceiling | ratio | goal | met |" in section
    assert "Load average" in section and "Commit:" in section
    assert f"![winnow bench {name}](img/bench-{name}.png)" in section
    png = docs.parent / "img" / f"bench-{name}.png"
    assert png.read_bytes()[:8] == PNG_MAGIC
    return section


class TestReport:
    def test_ratio_and_goals_come_from_the_figures(self) -> None:
        """value / ceiling; value goals, ratio goals, and no ratio without a ceiling."""
        f = Figure("x", 3500.0, "rows/s", 7000.0, "COPY", Goal(5000, unit="rows/s"))
        assert f.ratio == 0.5 and f.goal_met is False
        assert Figure("y", 0.8, "", 1.0, "c", Goal(0.7, on="ratio")).goal_met is True
        assert Figure("z", 2.5, "s", None, "", Goal(2.0, at_least=False)).goal_met is False
        assert Figure("w", 1.0, "s", None, "", Goal(0.7, on="ratio")).goal_met is None

    def test_append_keeps_the_page_and_adds_a_section_and_plot(self, docs: Path) -> None:
        """A result with a plot appends one section after the existing text and a PNG."""
        import matplotlib.pyplot as plt

        def plot(_: BenchResult) -> plt.Figure:
            fig, ax = plt.subplots()
            ax.plot([1, 2], [3, 4])
            return fig

        before = docs.read_text()
        result = BenchResult(
            name="unit",
            command="winnow bench unit",
            machine=machine_info(),
            figures=[Figure("a", 1.0, "s", 2.0, "floor", Goal(2.0, at_least=False, unit="s"))],
            tables=["| k | v |\n|---|---|\n| 1 | 2 |"],
            notes=["a note"],
            plot=plot,
        ).finish()
        append_to_docs(result, docs)
        section = _assert_appended(docs, before, "unit")
        assert "| a | 1.00 s | 2.00 s (floor) | 0.50 | <= 2.00 s | yes |" in section
        assert "- a note" in section


class TestStore:
    def test_both_paths_write_every_row_at_each_batch_size(self, scratch_url: str) -> None:
        """Rates per batch size; the run checks row counts in both table pairs itself."""
        result = store.run(
            scratch_url,
            rows=300,
            batch_sizes=[50, 200],
            rejected_fraction=0.25,
            repeat=1,
            seed=0,
            command="winnow bench store",
        )
        rates: list[store.StoreRate] = result.data["rates"]  # type: ignore[assignment]
        assert [r.batch for r in rates] == [50, 200]
        for rate, figure in zip(rates, result.figures, strict=True):
            assert rate.rows == rate.accepted + rate.rejected == 300
            assert 0 < rate.rejected < 300
            assert figure.value == rate.store_rows_per_s
            assert figure.ceiling == rate.copy_rows_per_s
            assert figure.ratio == pytest.approx(rate.copy_s / rate.store_s)
            assert figure.goal_met == (rate.store_rows_per_s >= store.GOAL_ROWS_PER_S)

    def test_cli_appends_to_docs(self, docs: Path) -> None:
        """`winnow bench store --append-docs` on a scratch database of the test server."""
        before = docs.read_text()
        out = _invoke(
            "store",
            "--rows",
            "120",
            "--batch-sizes",
            "60",
            "--repeat",
            "1",
            "--admin-url",
            ADMIN_URL,
            "--append-docs",
            "--docs",
            str(docs),
        )
        assert "store appends, batch 60" in out
        section = _assert_appended(docs, before, "store")
        assert "Command: `winnow bench store --rows 120 --batch-sizes 60 --repeat 1" in section


class TestDedup:
    def test_scale_report_counts_and_memory(self) -> None:
        """141 bytes of arrays per example; planted copies found; the sample agrees with the
        scan."""
        r = dedup.measure_scale(2000, planted=100, heldout=100, sample=40, seed=1)
        assert r.examples == 2000 and r.planted == 100 and r.heldout == 100 and r.sample == 40
        # exact key + owner (16), 10 bands x 8 bytes, owner prefix + 40-byte sketch + flag (45);
        # a band key that goes hot adds a few bytes (the vendored sample corpus has one at 2,000)
        assert 141 * 2000 <= r.nbytes <= 150 * 2000
        assert r.traced_bytes >= r.nbytes
        assert r.flagged_planted <= r.planted and r.exact_planted <= r.planted
        assert r.recall >= 0.9  # seeded: planted copies of real text are found
        assert r.sample_both <= min(r.sample_exact, r.sample_index)
        # Half the sample are planted copies: the brute-force scan finds most of them.
        assert r.sample_exact >= 15

    def test_cli_prints_and_appends(self, docs: Path) -> None:
        """Two sizes give six figures each, the plot and the section."""
        before = docs.read_text()
        out = _invoke(
            "dedup",
            "--sizes",
            "500,1000",
            "--planted",
            "40",
            "--heldout",
            "40",
            "--sample",
            "20",
            "--peer-sizes",
            "300",
            "--append-docs",
            "--docs",
            str(docs),
        )
        assert "recall on planted copies, 1,000" in out
        section = _assert_appended(docs, before, "dedup")
        assert section.count("| recall on planted copies,") == 2
        assert "| checks/s vs peers, 300 |" in section and "| 300 | rensa |" in section

    def test_peers_check_the_same_queries_against_the_same_truth(self) -> None:
        """Winnow, rensa and datasketch see the same queries; every system's hits and misses add
        up to the same exact-scan truth, and Winnow's quality meets the goals on it."""
        runs = dedup_peers.compare(1500, planted=150, heldout=150, seed=2)
        assert [r.system for r in runs] == ["Winnow NearDuplicateIndex", "rensa", "datasketch"]
        truth = {r.true_positives + r.false_negatives for r in runs}
        assert len(truth) == 1 and truth.pop() >= 140  # nearly every planted copy is a duplicate
        assert all(r.queries == 300 and r.indexed == 1500 for r in runs)
        winnow = runs[0]
        assert winnow.recall >= 0.95 and winnow.precision >= 0.99
        # Sketches spare almost every exact check: well under one per query.
        assert winnow.exact_checks < winnow.queries
        result = BenchResult(name="dedup", command="d", machine=machine_info(), figures=[])
        dedup_peers.extend(result, [runs])
        [speed, memory] = result.figures
        assert speed.value == winnow.checks_per_s and memory.value == winnow.bytes_per_text


class TestGrowth:
    def test_every_size_holds_its_seeds_and_curates_the_probe(self, scratch_url: str) -> None:
        """Empty store first (the ceiling), then each size; the probe is decided in full."""
        result = growth.run(scratch_url, sizes=[1000, 300], probe=96, batch=32, seed=0, command="g")
        points: list[growth.GrowthPoint] = result.data["points"]  # type: ignore[assignment]
        assert [p.stored for p in points] == [0, 300, 1000]
        for p in points:
            assert p.probe == 96 and p.accepted + p.rejected == 96
            assert p.index_bytes >= 96 * p.stored
        # The same probe on the same filters: the same split at every size.
        assert len({(p.accepted, p.rejected) for p in points}) == 1
        throughput = [f for f in result.figures if f.name.startswith("curate + write")]
        assert [f.ceiling for f in throughput] == [points[0].per_second] * 2
        assert [f.value for f in throughput] == [p.per_second for p in points[1:]]

    def test_kept_databases_are_seeded_once_and_reused(self) -> None:
        """With ``--keep-db`` a second run seeds nothing, finds the rows a killed run left (probe
        rows) gone, and measures the same probe with the same decisions; a run whose seeds
        differ (another seed or corpus) refuses the kept databases."""
        from sqlalchemy import create_engine, text

        from winnow.bench.corpus import bench_pairs
        from winnow.example import Decision
        from winnow.store.store import ExampleStore

        name = f"winnow_test_kept_{uuid.uuid4().hex[:8]}"
        sizes = [300, 1000]
        try:
            first = growth.run(
                ADMIN_URL,
                sizes=sizes,
                probe=64,
                batch=32,
                seed=0,
                command="g",
                kept=growth.KeptStores(ADMIN_URL, name),
            ).data["points"]
            left = growth._probe_examples(bench_pairs(1064, 0)[1000:], 0)[:8]
            store = ExampleStore(growth.KeptStores(ADMIN_URL, name).url(1000))
            store.write_decisions(
                [e.model_copy(update={"decision": Decision(status="accepted")}) for e in left]
            )
            store.close()
            second = growth.run(
                ADMIN_URL,
                sizes=sizes,
                probe=64,
                batch=32,
                seed=0,
                command="g",
                kept=growth.KeptStores(ADMIN_URL, name),
            ).data["points"]
            with pytest.raises(RuntimeError, match="other seeds"):  # another --seed, same name
                growth.run(
                    ADMIN_URL,
                    sizes=sizes,
                    probe=64,
                    batch=32,
                    seed=1,
                    command="g",
                    kept=growth.KeptStores(ADMIN_URL, name),
                )
        finally:
            admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for size in [0, *sizes]:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_{size}" WITH (FORCE)'))
            admin.dispose()
        assert [p.seed_s > 0 for p in first] == [False, True, True]  # type: ignore[attr-defined]
        assert [p.seed_s for p in second] == [0.0, 0.0, 0.0]  # type: ignore[attr-defined]
        decided = [(p.stored, p.accepted, p.rejected) for p in first]  # type: ignore[attr-defined]
        assert [(p.stored, p.accepted, p.rejected) for p in second] == decided  # type: ignore[attr-defined]

    def test_cli_appends_to_docs(self, docs: Path) -> None:
        """`winnow bench growth --append-docs` on a scratch database."""
        before = docs.read_text()
        _invoke(
            "growth",
            "--sizes",
            "200",
            "--probe",
            "40",
            "--batch",
            "20",
            "--admin-url",
            ADMIN_URL,
            "--append-docs",
            "--docs",
            str(docs),
        )
        section = _assert_appended(docs, before, "growth")
        assert "| curate + write, 200 stored |" in section


class TestReplicas:
    def test_one_and_two_replicas_decide_the_same(self, scratch_url: str) -> None:
        """Every configuration curates every example and accepts the same ones' count."""
        result = replicas.run(
            scratch_url, replicas=[1, 2], examples=96, batch=32, seed=0, command="r", repeat=1
        )
        runs = result.data["runs"]
        assert isinstance(runs, list)
        assert [(r["replicas"], r["shared"]) for r in runs] == [(1, False), (1, True), (2, True)]
        assert len({r["accepted"] for r in runs}) == 1 and 0 < runs[0]["accepted"] <= 96
        assert runs[0]["locks"] == 0 and runs[1]["locks"] > 0
        scaling = next(f for f in result.figures if f.name == "2 replicas, shared index on")
        assert scaling.ceiling == 2 * 96 / runs[1]["wall_s"]


@pytest.mark.integration
class TestEndToEnd:
    def test_drain_and_paced_latency_through_the_real_pipeline(
        self, docs: Path, models_dir: Path
    ) -> None:
        """Every event reaches the store in both phases; figures are the report's numbers."""
        from winnow.bench import e2e
        from winnow.settings import Settings

        with fresh_postgres_database(ADMIN_URL) as url:
            settings = Settings(
                database_url=url,
                data_dir=docs.parent,
                models_dir=models_dir,
                batch_max=16,
                batch_wait_s=0.1,
                ort_intra_op_threads=1,
                ort_providers=["CPUExecutionProvider"],
                topic_partitions=2,
            )
            result = e2e.run(
                settings,
                events=64,
                latency_events=20,
                seed=0,
                log_dir=docs.parent / "logs",
                timeout_s=240,
                command="winnow bench e2e --events 64 --latency-events 20",
            )
        r: e2e.E2EReport = result.data["report"]  # type: ignore[assignment]
        assert r.events == r.drain_events == 64 and r.batch == 16
        assert len(r.latencies) == 20 and all(x > 0 for x in r.latencies)
        assert 0 <= r.first_batch < 64
        throughput, p50, p95, p99 = result.figures
        assert throughput.value == r.pipeline_per_s and throughput.ceiling == r.scorer_per_s
        assert p50.value <= p95.value <= p99.value <= max(r.latencies)
        assert p99.goal_met == (p99.value <= 2.0)
        before = docs.read_text()
        append_to_docs(result, docs)
        _assert_appended(docs, before, "e2e")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The repository's models, built if absent (as the models tests do)."""
    from winnow.testing.models import ensure_models

    return ensure_models(REPO / "models")
