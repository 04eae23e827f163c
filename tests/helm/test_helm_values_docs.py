"""The chart's generated documentation: values.schema.json and the README values table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from .chartlib import CHART_DIR


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    """The generator script, imported as a module."""
    spec = importlib.util.spec_from_file_location(
        "gen_values_docs", CHART_DIR / "hack" / "gen_values_docs.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_up_to_date(gen: ModuleType) -> None:
    """values.schema.json and README.md match what the generator makes from values.yaml."""
    schema, readme = gen.render(CHART_DIR)
    assert (CHART_DIR / "values.schema.json").read_text() == schema, (
        "run helm/winnow/hack/gen_values_docs.py"
    )
    assert (CHART_DIR / "README.md").read_text() == readme, (
        "run helm/winnow/hack/gen_values_docs.py"
    )
    assert gen.main(["--check"]) == 0


def test_every_value_is_documented(gen: ModuleType) -> None:
    """Every leaf of values.yaml is covered by a `## @param` comment (its own or a parent's)."""
    data, sections = gen.parse(CHART_DIR / "values.yaml")
    params = [p for s in sections for p in s.params]
    assert gen.undocumented(data, params) == []
    assert len(params) > 100


def test_readme_table_lists_the_gpu_switch_with_its_default(gen: ModuleType) -> None:
    """The README table has a row per value, e.g. the scorer GPU switch with its default."""
    readme = (CHART_DIR / "README.md").read_text()
    assert "| `services.scorer.gpu.enabled` | Run the scorer on an NVIDIA GPU" in readme
    assert "| `false` |\n" in readme
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    documented = [p.path for s in gen.parse(CHART_DIR / "values.yaml")[1] for p in s.params]
    assert [row.split("`")[1] for row in rows if row.split("`")[1] in documented] == documented


def test_schema_types_defaults_and_enums(gen: ModuleType) -> None:
    """The schema carries each value's type, default and enum and refuses unknown top-level keys."""
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    protocol = schema["properties"]["kafka"]["properties"]["security"]["properties"]["protocol"]
    assert protocol["enum"] == ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
    replicas = schema["properties"]["services"]["properties"]["scorer"]["properties"][
        "replicaCount"
    ]
    assert (replicas["type"], replicas["default"]) == ("integer", 1)
    min_available = schema["properties"]["pdb"]["properties"]["minAvailable"]
    assert min_available["type"] == ["integer", "string"]
    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert schema["properties"]["podSecurityContext"]["default"] == defaults["podSecurityContext"]


def test_check_mode_reports_drift(
    gen: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check fails and names the stale file when values.yaml gains a value, until regenerated."""
    chart = tmp_path / "winnow"
    chart.mkdir()
    for name in ("values.yaml", "README.md", "values.schema.json"):
        (chart / name).write_text((CHART_DIR / name).read_text())
    with (chart / "values.yaml").open("a") as f:
        f.write("## @param extraFlag A new value.\nextraFlag: true\n")
    assert gen.main(["--check", "--chart", str(chart)]) == 1
    assert "stale" in capsys.readouterr().err
    assert gen.main(["--chart", str(chart)]) == 0
    assert gen.main(["--check", "--chart", str(chart)]) == 0
    assert "extraFlag" in (chart / "values.schema.json").read_text()
