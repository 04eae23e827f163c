"""Fixtures of the Helm chart tests: the chart, a cached renderer and every ci/ scenario rendered.

Rendering uses ``helm_python`` (the Helm Go SDK, offline); see ``chartlib`` for validation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

helm_python = pytest.importorskip("helm_python")
pytest.importorskip("kubernetes_validate")

from .chartlib import CHART_DIR, NAMESPACE, RELEASE, SCENARIOS, Rendered, scenario_values  # noqa: E402


@pytest.fixture(scope="session")
def chart() -> Iterator[Any]:
    """The loaded chart (one native handle per session)."""
    with helm_python.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def render(chart: Any) -> Callable[..., Rendered]:
    """Render the chart with the given values (cached per distinct values)."""
    cache: dict[str, Rendered] = {}

    def _render(values: dict[str, Any] | None = None, *, name: str = RELEASE) -> Rendered:
        values = values or {}
        key = f"{name}:{yaml.safe_dump(values, sort_keys=True)}"
        if key not in cache:
            manifests = chart.render(copy.deepcopy(values), name=name, namespace=NAMESPACE)
            objects: list[dict[str, Any]] = []
            notes = ""
            for template, text in sorted(manifests.items()):
                if template.endswith("NOTES.txt"):
                    notes = text
                    continue
                objects.extend(d for d in yaml.safe_load_all(text) if d)
            cache[key] = Rendered(values, objects, notes)
        return cache[key]

    return _render


@pytest.fixture(scope="session", params=SCENARIOS, ids=SCENARIOS)
def scenario(request: pytest.FixtureRequest, render: Callable[..., Rendered]) -> Rendered:
    """Each ci/ scenario, rendered."""
    return render(scenario_values(request.param))
