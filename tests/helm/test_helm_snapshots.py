"""Snapshot storage, the gateway's Ingress / HTTPRoute and the `helm test` pod, rendered offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

import pytest

from winnow.settings import Settings

from .chartlib import Rendered, container, env_of, scenario_values

helm_python = pytest.importorskip("helm_python")

Render = Callable[..., Rendered]


def _pod(out: Rendered, component: str) -> dict[str, Any]:
    spec: dict[str, Any] = out.deployments()[component]["spec"]["template"]["spec"]
    return spec


def _writable_mounts(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mount path -> volume of every read-write mount of the first container."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    return {
        m["mountPath"]: volumes[m["name"]]
        for m in pod["containers"][0]["volumeMounts"]
        if not m.get("readOnly")
    }


def test_default_curator_writes_snapshots_with_a_read_only_root(render: Render) -> None:
    """Defaults: the root filesystem stays read-only, and every path a retrain snapshot touches
    (the staging folder under /tmp, the snapshot URL's folder) is a writable volume; the URL is
    the one the settings read, so the retrain event names it."""
    out = render({})
    pod = _pod(out, "curator")
    c = pod["containers"][0]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    url = env_of(c)["WINNOW_SNAPSHOT_URL"]["value"]
    assert url == "file:///snapshots"
    settings = Settings(snapshot_url=url)
    assert settings.snapshot_root == url
    mounts = _writable_mounts(pod)
    target = PurePosixPath(urlparse(url).path)
    assert any(target.is_relative_to(m) for m in mounts), (target, sorted(mounts))
    assert "/tmp" in mounts  # tempfile's staging folder
    claim = mounts["/snapshots"]["persistentVolumeClaim"]["claimName"]
    pvc = out.one("PersistentVolumeClaim", claim)
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # Only the curator writes snapshots.
    for name, d in out.deployments().items():
        if name != "curator":
            assert "WINNOW_SNAPSHOT_URL" not in env_of(container(d)), name


def test_object_storage_url_replaces_the_volume(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With snapshots.url the curator gets the URL and options (as the settings read them from
    the environment), and no volume or claim."""
    out = render(scenario_values("full"))
    pod = _pod(out, "curator")
    env = env_of(pod["containers"][0])
    assert env["WINNOW_SNAPSHOT_URL"]["value"] == "s3://winnow-training/snapshots"
    for name in ("WINNOW_SNAPSHOT_URL", "WINNOW_SNAPSHOT_STORAGE_OPTIONS"):
        monkeypatch.setenv(name, env[name]["value"])
    settings = Settings()
    assert settings.snapshot_root == "s3://winnow-training/snapshots"
    assert settings.snapshot_storage_options == {"endpoint_url": "https://minio.storage.svc:9000"}
    assert "/snapshots" not in _writable_mounts(pod)
    assert out.kinds("PersistentVolumeClaim") == []
    sa = out.kinds("ServiceAccount")[0]
    assert "eks.amazonaws.com/role-arn" in sa["metadata"]["annotations"]  # IRSA


def test_without_persistence_snapshots_go_to_an_empty_dir(render: Render) -> None:
    """persistence off and no URL: an emptyDir still keeps the root filesystem read-only."""
    out = render({"snapshots": {"persistence": {"enabled": False}}})
    assert _writable_mounts(_pod(out, "curator"))["/snapshots"] == {
        "name": "snapshots",
        "emptyDir": {},
    }
    assert out.kinds("PersistentVolumeClaim") == []
    assert "retrain snapshots go to an emptyDir and are lost" in out.notes
    assert "emptyDir" not in render({}).notes


def test_gateway_ingress_and_http_route(render: Render) -> None:
    """Off by default; when on, both send / of the host to the gateway's Service port."""
    assert render({}).kinds("Ingress") == [] and render({}).kinds("HTTPRoute") == []
    out = render(scenario_values("full"))
    service = out.one("Service", "winnow-gateway")
    port = service["spec"]["ports"][0]["port"]
    [ingress] = out.kinds("Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "winnow-gateway", "port": {"number": port}}
    assert ingress["spec"]["ingressClassName"] == "nginx"
    [route] = out.kinds("HTTPRoute")
    assert route["spec"]["parentRefs"] == [{"name": "public", "namespace": "gateway-system"}]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "winnow-gateway", "port": port}]


def test_helm_test_pod_posts_through_the_gateway(render: Render) -> None:
    """A `helm test` hook pod, locked down like the services, reaching the gateway Service with
    the API key from its Secret."""
    out = render({})
    [pod] = out.kinds("Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    c = pod["spec"]["containers"][0]
    env = env_of(c)
    port = out.one("Service", "winnow-gateway")["spec"]["ports"][0]["port"]
    assert env["GATEWAY_URL"]["value"] == f"http://winnow-gateway:{port}"
    assert env["API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "winnow-helm-test-api-key",
        "key": "api-key",
    }
    assert env["TENANT"]["value"] == "helm-test"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    script = c["command"][-1]
    assert "/v1/events" in script and "/v1/examples" in script
    compile(script, "helm-test", "exec")  # the embedded script is valid Python
    assert render({"helmTest": {"enabled": False}}).kinds("Pod") == []
