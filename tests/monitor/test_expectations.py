"""The packaged Great Expectations suite on one window's rows (GE imported once per process)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tests.monitor.helpers import example_doc

from winnow.monitor.expectations import SuiteRunner
from winnow.monitor.window import flatten


@pytest.fixture(scope="module")
def runner() -> SuiteRunner:
    """The packaged suites."""
    return SuiteRunner()


def rows(n: int = 200) -> list[dict[str, object]]:
    """Flattened rows of n good curated examples."""
    return [flatten(example_doc(i), "curated") for i in range(n)]


def failures(runner: SuiteRunner, data: list[dict[str, object]]) -> set[tuple[str, str | None]]:
    (result,) = runner.validate(data)
    assert result.success is not bool({(f.type, f.column) for f in result.failed})
    return {(f.type, f.column) for f in result.failed}


class TestCuratedSuite:
    def test_good_rows_pass(
        self, runner: SuiteRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Good curated examples meet every expectation, and validating writes no files."""
        monkeypatch.chdir(tmp_path)
        (result,) = runner.validate(rows())
        assert list(tmp_path.iterdir()) == []
        assert result.success and result.evaluated >= 10 and result.failed == []
        assert result.rows == 200

    def test_renamed_field(self, runner: SuiteRunner) -> None:
        """A field renamed upstream (tenant -> tenant_id) fails its existence and not-null."""
        docs = [example_doc(i) for i in range(50)]
        for d in docs:
            d["tenant_id"] = d.pop("tenant")
        found = failures(runner, [flatten(d, "curated") for d in docs])
        assert ("expect_column_values_to_not_be_null", "tenant") in found

    def test_out_of_range_score(self, runner: SuiteRunner) -> None:
        """A reward outside [0, 1] fails the score range."""
        data = rows(50)
        data[3]["score_reward"] = 1.7
        assert failures(runner, data) == {("expect_column_values_to_be_between", "score_reward")}

    def test_duplicate_ids(self, runner: SuiteRunner) -> None:
        """Two rows with one id fail uniqueness."""
        data = rows(50)
        data[1]["id"] = data[2]["id"]
        assert failures(runner, data) == {("expect_column_values_to_be_unique", "id")}

    def test_empty_answer_and_bad_kind(self, runner: SuiteRunner) -> None:
        """An empty answer fails the length range; an unknown kind fails the allowed set."""
        data = rows(50)
        data[0]["answer_chars"] = 0
        data[1]["kind"] = "chitchat"
        assert failures(runner, data) == {
            ("expect_column_values_to_be_between", "answer_chars"),
            ("expect_column_values_to_be_in_set", "kind"),
        }

    def test_rejected_rows_are_not_validated(self, runner: SuiteRunner) -> None:
        """The curated suite sees only curated rows."""
        assert runner.validate([flatten(example_doc(1), "rejected")]) == []


def test_user_suite_folder(tmp_path: Path) -> None:
    """A suite folder of the user's own JSON files replaces the packaged one."""
    suite = {
        "name": "mine",
        "meta": {"winnow_outcomes": ["curated", "rejected"]},
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "domain", "value_set": ["billing"]},
            }
        ],
    }
    (tmp_path / "mine.json").write_text(json.dumps(suite))
    runner = SuiteRunner(tmp_path)
    data = [*rows(5), flatten(example_doc(9, domain="legal"), "rejected")]
    (result,) = runner.validate(data)
    assert result.suite == "mine" and not result.success and result.rows == 6


def test_monitor_import_does_not_load_ge() -> None:
    """Importing the monitor's modules leaves GE unloaded until a suite runs."""
    import subprocess

    code = (
        "import sys, winnow.agents.monitor, winnow.monitor.core;"
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
