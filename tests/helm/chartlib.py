"""Helpers of the Helm chart tests: rendered objects, pod-spec walkers and offline validation.

Built-in kinds are checked against the Kubernetes 1.30 schemas bundled in ``kubernetes_validate``
(strict: unknown fields fail); CRD kinds against the subset schemas below, which pin the fields the
chart uses from the CRDs' published versions (Prometheus Operator monitoring.coreos.com/v1, KEDA
2.12+ keda.sh/v1alpha1, Strimzi kafka.strimzi.io/v1beta2), plus ObjectMeta from Kubernetes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART_DIR = REPO / "helm" / "winnow"
SCENARIOS = sorted(
    p.name.removesuffix("-values.yaml") for p in (CHART_DIR / "ci").glob("*-values.yaml")
)
KUBE_VERSION = "1.30.0"
RELEASE = "winnow"
NAMESPACE = "data"


@dataclass(frozen=True)
class Rendered:
    """One rendered scenario: its values, its objects and its NOTES.txt."""

    values: dict[str, Any]
    objects: list[dict[str, Any]]
    notes: str

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        """Every object of one kind."""
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        """The single object of a kind and name; fails when it is absent."""
        found = [o for o in self.kinds(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{kind}/{name}: found {len(found)}"
        return found[0]

    def deployments(self) -> dict[str, dict[str, Any]]:
        """Deployments by component label."""
        return {
            d["metadata"]["labels"]["app.kubernetes.io/component"]: d
            for d in self.kinds("Deployment")
        }


def container(workload: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """A container of a Deployment or Job."""
    found: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][index]
    return found


def env_of(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A container's env entries by name."""
    return {e["name"]: e for e in c.get("env", [])}


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of every workload."""
    for o in objects:
        if o["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            yield f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]
        elif o["kind"] == "CronJob":
            template = o["spec"]["jobTemplate"]["spec"]["template"]
            yield f"CronJob/{o['metadata']['name']}", template["spec"]


def scenario_values(name: str) -> dict[str, Any]:
    """The values of one ``ci/<name>-values.yaml`` scenario."""
    data = yaml.safe_load((CHART_DIR / "ci" / f"{name}-values.yaml").read_text())
    return data or {}


# --- CRD subset schemas ----------------------------------------------------------------------

# Prometheus durations as the operator's CRD patterns accept them.
_PROM_DURATION = (
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
_STR = {"type": "string"}
_INT = {"type": "integer"}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required or [],
        "additionalProperties": False,
    }


_LABEL_SELECTOR = _obj({"matchLabels": _STR_MAP, "matchExpressions": {"type": "array"}})

CRD_SPEC_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): _obj(
        {
            "jobLabel": _STR,
            "namespaceSelector": _obj(
                {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": _STR}}
            ),
            "selector": _LABEL_SELECTOR,
            "endpoints": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "port": _STR,
                        "path": _STR,
                        "interval": {
                            "type": "string",
                            "pattern": r"^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
                        },
                        "scrapeTimeout": {
                            "type": "string",
                            "pattern": r"^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
                        },
                        "honorLabels": {"type": "boolean"},
                        "relabelings": {"type": "array"},
                        "metricRelabelings": {"type": "array"},
                    }
                ),
            },
        },
        ["selector", "endpoints"],
    ),
    ("monitoring.coreos.com/v1", "PrometheusRule"): _obj(
        {
            "groups": {
                "type": "array",
                "items": _obj(
                    {
                        "name": _STR,
                        "interval": _STR,
                        "rules": {
                            "type": "array",
                            "minItems": 1,
                            "items": _obj(
                                {
                                    "alert": _STR,
                                    "record": _STR,
                                    "expr": {"type": "string", "minLength": 1},
                                    "for": {
                                        "type": "string",
                                        "pattern": _PROM_DURATION,
                                    },
                                    "labels": _STR_MAP,
                                    "annotations": _STR_MAP,
                                },
                                ["expr"],
                            ),
                        },
                    },
                    ["name", "rules"],
                ),
            }
        },
        ["groups"],
    ),
    ("keda.sh/v1alpha1", "ScaledObject"): _obj(
        {
            "scaleTargetRef": _obj(
                {"apiVersion": _STR, "kind": _STR, "name": _STR, "envSourceContainerName": _STR},
                ["name"],
            ),
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "pollingInterval": _INT,
            "cooldownPeriod": _INT,
            "idleReplicaCount": _INT,
            "fallback": _obj(
                {"failureThreshold": _INT, "replicas": _INT}, ["failureThreshold", "replicas"]
            ),
            "advanced": _obj(
                {
                    "restoreToOriginalReplicaCount": {"type": "boolean"},
                    "horizontalPodAutoscalerConfig": _obj(
                        {"name": _STR, "behavior": {"type": "object"}}
                    ),
                }
            ),
            "triggers": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "type": {"enum": ["kafka", "cpu", "memory", "prometheus"]},
                        "name": _STR,
                        "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                        "metadata": _STR_MAP,
                        "authenticationRef": _obj({"name": _STR, "kind": _STR}, ["name"]),
                    },
                    ["type", "metadata"],
                ),
            },
        },
        ["scaleTargetRef", "triggers"],
    ),
    # Gateway API v1.1 (gateway.networking.k8s.io/v1), the fields the chart sets.
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): _obj(
        {
            "parentRefs": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "group": _STR,
                        "kind": _STR,
                        "name": _STR,
                        "namespace": _STR,
                        "sectionName": _STR,
                        "port": _INT,
                    },
                    ["name"],
                ),
            },
            "hostnames": {"type": "array", "items": _STR},
            "rules": {
                "type": "array",
                "items": _obj(
                    {
                        "matches": {
                            "type": "array",
                            "items": _obj(
                                {
                                    "path": _obj(
                                        {
                                            "type": {
                                                "enum": ["Exact", "PathPrefix", "RegularExpression"]
                                            },
                                            "value": _STR,
                                        }
                                    )
                                }
                            ),
                        },
                        "backendRefs": {
                            "type": "array",
                            "items": _obj({"name": _STR, "port": _INT}, ["name", "port"]),
                        },
                    }
                ),
            },
        },
        ["parentRefs"],
    ),
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): _obj(
        {
            "topicName": _STR,
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": {"type": "object"},
        }
    ),
}


def validate_object(obj: dict[str, Any]) -> None:
    """Validate one object offline: Kubernetes schemas for built-in kinds, the subset schemas above
    (plus ObjectMeta from the Kubernetes schemas) for CRDs. Raises on the first problem."""
    key = (obj["apiVersion"], obj["kind"])
    if key in CRD_SPEC_SCHEMAS:
        assert set(obj) <= {"apiVersion", "kind", "metadata", "spec"}, sorted(obj)
        # ObjectMeta is the same for every kind: check it through a ConfigMap wrapper.
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]},
            KUBE_VERSION,
            strict=True,
        )
        jsonschema.validate(obj["spec"], CRD_SPEC_SCHEMAS[key])
        return
    kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
