"""The winnow chart rendered by the real Helm engine: lint, schemas, security, GPU, hooks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from winnow.settings import Settings

from .chartlib import (
    CHART_DIR,
    KUBE_VERSION,
    NAMESPACE,
    Rendered,
    container,
    env_of,
    pod_specs,
    scenario_values,
    validate_object,
)

helm_python = pytest.importorskip("helm_python")

Render = Callable[..., Rendered]
WORKERS = {"validator", "scorer", "curator", "gateway", "monitor"}
# Services that consume a topic and scale on its lag (the monitor stays at one replica; the
# gateway consumes nothing).
LAG_SCALED = {"validator", "scorer", "curator"}
# Settings the chart sets that later issues add to winnow.settings (contract with the services).
PENDING_SETTINGS = {
    "WINNOW_KAFKA_SECURITY_PROTOCOL",
    "WINNOW_KAFKA_SASL_MECHANISM",
    "WINNOW_KAFKA_SASL_USERNAME",
    "WINNOW_KAFKA_SASL_PASSWORD_FILE",
    "WINNOW_KAFKA_SSL_CAFILE",
    "WINNOW_KAFKA_SSL_CERTFILE",
    "WINNOW_KAFKA_SSL_KEYFILE",
    "WINNOW_MODELS_DIR",
    "WINNOW_ORT_PROVIDERS",
    "WINNOW_API_KEY_PEPPER",
}


def known_settings() -> set[str]:
    """Env names of every field of winnow.settings.Settings."""
    return {f"WINNOW_{name.upper()}" for name in Settings.model_fields}


class TestEveryScenario:
    """Properties every ci/ scenario must have."""

    def test_lint_is_clean(self, scenario: Rendered) -> None:
        """`helm lint --strict` reports no message at all (not even info) for the scenario."""
        report = helm_python.lint(
            CHART_DIR,
            scenario.values,
            strict=True,
            namespace=NAMESPACE,
            kube_version=f"v{KUBE_VERSION}",
        )
        assert report["errors"] == []
        assert report["messages"] == []
        assert report["total_charts_linted"] == 1

    def test_every_object_is_valid_offline(self, scenario: Rendered) -> None:
        """Every rendered object validates strictly against the Kubernetes 1.30 (or CRD) schemas."""
        assert scenario.objects
        for obj in scenario.objects:
            validate_object(obj)

    def test_names_fit_dns_labels_and_carry_standard_labels(self, scenario: Rendered) -> None:
        """Every name is at most 63 characters and every object has the standard labels."""
        for obj in scenario.objects:
            meta = obj["metadata"]
            assert len(meta["name"]) <= 63, meta["name"]
            assert meta["namespace"] == NAMESPACE
            assert meta["labels"]["app.kubernetes.io/instance"] == "winnow"
            assert meta["labels"]["app.kubernetes.io/managed-by"] == "Helm"

    def test_pods_and_containers_are_locked_down(self, scenario: Rendered) -> None:
        """Every pod runs non-root with RuntimeDefault seccomp; every container has a read-only
        root filesystem, no privilege escalation and drops ALL capabilities."""
        specs = list(pod_specs(scenario.objects))
        assert specs
        for where, pod in specs:
            assert pod["securityContext"]["runAsNonRoot"] is True, where
            assert pod["securityContext"]["runAsUser"] != 0, where
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert pod["automountServiceAccountToken"] is False, where
            for c in pod["containers"] + pod.get("initContainers", []):
                sc = c["securityContext"]
                assert sc["readOnlyRootFilesystem"] is True, (where, c["name"])
                assert sc["allowPrivilegeEscalation"] is False, (where, c["name"])
                assert sc["capabilities"] == {"drop": ["ALL"]}, (where, c["name"])
                assert sc["runAsNonRoot"] is True, (where, c["name"])
                assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, (where, c["name"])
                mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
                assert "/tmp" in mounts, (where, c["name"])

    def test_every_container_sets_resources(self, scenario: Rendered) -> None:
        """Every container requests CPU and memory and limits memory."""
        for where, pod in pod_specs(scenario.objects):
            for c in pod["containers"] + pod.get("initContainers", []):
                assert {"cpu", "memory"} <= set(c["resources"]["requests"]), (where, c["name"])
                assert "memory" in c["resources"]["limits"], (where, c["name"])

    def test_no_image_uses_latest(self, scenario: Rendered) -> None:
        """Every image is pinned to a version tag or digest, never `latest` or untagged."""
        for where, pod in pod_specs(scenario.objects):
            for c in pod["containers"] + pod.get("initContainers", []):
                image = c["image"]
                assert re.search(r"(:[\w.-]+|@sha256:[0-9a-f]{64})$", image), (where, image)
                assert not image.endswith(":latest"), (where, image)

    def test_only_existing_services_are_deployed(self, scenario: Rendered) -> None:
        """The chart deploys validator, scorer and curator (gateway and monitor come later)."""
        assert set(scenario.deployments()) == WORKERS
        services = {
            s["metadata"]["labels"]["app.kubernetes.io/component"]
            for s in scenario.kinds("Service")
        }
        assert services == WORKERS

    def test_scenario_passes_the_values_schema(self, chart: Any, scenario: Rendered) -> None:
        """values.schema.json accepts the scenario's values."""
        chart.validate_schema(scenario.values)

    def test_keda_and_hpa_never_both_scale_a_service(self, scenario: Rendered) -> None:
        """No Deployment is the target of both a ScaledObject and an HPA, and autoscaled
        Deployments leave `replicas` to the autoscaler."""
        hpa = {
            h["spec"]["scaleTargetRef"]["name"] for h in scenario.kinds("HorizontalPodAutoscaler")
        }
        keda = {s["spec"]["scaleTargetRef"]["name"] for s in scenario.kinds("ScaledObject")}
        assert not hpa & keda
        for d in scenario.kinds("Deployment"):
            scaled = d["metadata"]["name"] in hpa | keda
            assert ("replicas" in d["spec"]) is not scaled, d["metadata"]["name"]


class TestDefaults:
    """The default values."""

    @pytest.fixture(scope="class")
    @classmethod
    def out(cls, render: Render) -> Rendered:
        """The chart rendered with its defaults."""
        return render(scenario_values("default"))

    def test_probes_hit_healthz_and_readyz_on_the_web_port(self, out: Rendered) -> None:
        """Liveness and startup probe GET /healthz, readiness GET /readyz, on the port the
        service listens on (WINNOW_WEB_PORT=6066, bound to all interfaces)."""
        config = out.one("ConfigMap", "winnow")["data"]
        assert config["WINNOW_WEB_HOST"] == "0.0.0.0"
        for name, d in out.deployments().items():
            c = container(d)
            assert c["ports"] == [{"name": "http", "containerPort": 6066, "protocol": "TCP"}], name
            assert env_of(c)["WINNOW_WEB_PORT"]["value"] == "6066"
            assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            assert c["args"] == ["serve", name]

    def test_migration_job_is_a_pre_install_and_pre_upgrade_hook(self, out: Rendered) -> None:
        """`winnow db upgrade` runs as a hook Job before install and upgrade, replaced on the next
        attempt and deleted when it succeeds, with the database URL from the existing Secret."""
        job = out.one("Job", "winnow-migrations")
        ann = job["metadata"]["annotations"]
        assert ann["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(ann["helm.sh/hook-weight"]) < 0
        assert ann["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        pod = job["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        # Hooks run before the release's ServiceAccount exists: the Job must not need it.
        assert "serviceAccountName" not in pod
        c = container(job)
        assert c["args"] == ["db", "upgrade"]
        url = env_of(c)["WINNOW_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert url == {"name": "winnow-database", "key": "url"}
        # Hook Jobs get the settings inline: the ConfigMap does not exist yet on first install.
        assert env_of(c)["WINNOW_KAFKA_BOOTSTRAP"]["value"] == "winnow-kafka-bootstrap:9092"
        assert "envFrom" not in c

    def test_only_store_users_get_the_database_url(self, out: Rendered) -> None:
        """WINNOW_DATABASE_URL reaches the curator, gateway and monitor (which use the store) and
        not the validator or scorer; the owner's URL only the curator and the Jobs, the gateway
        and monitor a login of their own (roles of migration 0008: no dead-letter contents)."""
        urls = {
            n: env_of(container(d))["WINNOW_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
            for n, d in out.deployments().items()
            if "WINNOW_DATABASE_URL" in env_of(container(d))
        }
        assert urls == {
            "curator": "winnow-database",
            "gateway": "winnow-database-gateway",
            "monitor": "winnow-database-monitor",
        }
        purge = out.one("CronJob", "winnow-dlq-purge")["spec"]["jobTemplate"]
        url = env_of(container(purge))["WINNOW_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert url == {"name": "winnow-database", "key": "url"}

    def test_dead_letters_are_purged_on_the_retention_window(self, render: Render) -> None:
        """A CronJob runs `winnow dlq purge` with deadLetters.retentionDays, which is also the
        services' WINNOW_DLQ_RETENTION_DAYS and the DLQ KafkaTopic's retention.ms."""
        out = render(
            {
                **scenario_values("default"),
                "deadLetters": {"retentionDays": 3},
                "topics": {"strimzi": {"enabled": True}},
            }
        )
        cron = out.one("CronJob", "winnow-dlq-purge")
        assert cron["spec"]["concurrencyPolicy"] == "Forbid"
        c = container(cron["spec"]["jobTemplate"])
        assert c["args"] == ["dlq", "purge", "--older-than", "3d"]
        assert env_of(c)["WINNOW_DLQ_RETENTION_DAYS"]["value"] == "3"
        assert out.one("ConfigMap", "winnow")["data"]["WINNOW_DLQ_RETENTION_DAYS"] == "3"
        dlq = next(t for t in out.kinds("KafkaTopic") if t["spec"]["topicName"] == "winnow.dlq")
        assert dlq["spec"]["config"]["retention.ms"] == 3 * 86_400_000
        off = render({**scenario_values("default"), "deadLetters": {"purge": {"enabled": False}}})
        assert off.kinds("CronJob") == []

    def test_configmap_keys_are_winnow_settings(self, out: Rendered) -> None:
        """Every ConfigMap key is a field of winnow.settings.Settings (or a contracted one)."""
        data = out.one("ConfigMap", "winnow")["data"]
        assert data["WINNOW_KAFKA_BOOTSTRAP"] == "winnow-kafka-bootstrap:9092"
        assert data["WINNOW_KAFKA_IDEMPOTENCE"] == "true"
        assert json.loads(data["WINNOW_SOURCE_TOPICS"]) == ["tickets", "feedback", "synthetic"]
        # The hook Job migrates; curator replicas must not race it at start.
        assert data["WINNOW_DB_AUTO_MIGRATE"] == "false"
        # The hook Job migrates; curator replicas must not race it at start.
        assert data["WINNOW_DB_AUTO_MIGRATE"] == "false"
        assert set(data) <= known_settings() | PENDING_SETTINGS, set(data) - known_settings()
        for d in out.kinds("Deployment"):
            for name in env_of(container(d)):
                assert name in known_settings() | PENDING_SETTINGS | {"ORT_DISABLE_TELEMETRY"}, name

    def test_curator_replicas_share_the_duplicate_index(self, render: Render) -> None:
        """sharedDedup (on by default) sets WINNOW_DEDUP_SHARED for every service; several
        curator replicas with it off draw a warning (one replica per tenant)."""
        assert render({}).one("ConfigMap", "winnow")["data"]["WINNOW_DEDUP_SHARED"] == "on"
        assert "sharedDedup off" not in render({"services": {"curator": {"replicaCount": 3}}}).notes
        off = render({"services": {"curator": {"replicaCount": 3, "sharedDedup": False}}})
        assert off.one("ConfigMap", "winnow")["data"]["WINNOW_DEDUP_SHARED"] == "off"
        assert "sharedDedup off" in off.notes

    def test_configmap_change_rolls_the_pods(self, render: Render) -> None:
        """Changing a setting changes the pods' config checksum, so Deployments roll."""
        before = render({})
        after = render({"config": {"batchMax": 512}})
        assert after.one("ConfigMap", "winnow")["data"]["WINNOW_BATCH_MAX"] == "512"
        for name, d in before.deployments().items():
            old = d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
            new = after.deployments()[name]["spec"]["template"]["metadata"]["annotations"][
                "checksum/config"
            ]
            assert old != new

    def test_scorer_runs_on_cpu_with_baked_models(self, out: Rendered) -> None:
        """By default the scorer asks for no GPU, uses the CPU image and the models in the image."""
        scorer = out.deployments()["scorer"]
        c = container(scorer)
        assert c["image"] == "ghcr.io/winnow/winnow:0.1.0"
        assert not any("gpu" in k for k in c["resources"]["limits"])
        env = env_of(c)
        assert env["WINNOW_MODELS_DIR"]["value"] == "/app/models"
        assert json.loads(env["WINNOW_ORT_PROVIDERS"]["value"]) == ["CPUExecutionProvider"]
        assert "tolerations" not in scorer["spec"]["template"]["spec"]
        assert "initContainers" not in scorer["spec"]["template"]["spec"]

    def test_network_policy_denies_by_default_and_allows_dependencies(self, out: Rendered) -> None:
        """The NetworkPolicy covers ingress and egress of the release's pods and opens only the
        HTTP port, DNS, Kafka and PostgreSQL, plus the gateway's port to the gateway pods only
        (for the `helm test` pod)."""
        np = out.one("NetworkPolicy", "winnow")["spec"]
        assert np["policyTypes"] == ["Ingress", "Egress"]
        assert np["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
        ports = sorted(p["port"] for rule in np["egress"] for p in rule["ports"])
        assert ports == [53, 53, 5432, 6066, 9092, 9093]
        [to_gateway] = [r for r in np["egress"] if r["ports"][0]["port"] == 6066]
        labels = to_gateway["to"][0]["podSelector"]["matchLabels"]
        assert labels["app.kubernetes.io/component"] == "gateway"

    def test_pdbs_allow_one_disruption_per_service(self, out: Rendered) -> None:
        """Each service has a PodDisruptionBudget selecting exactly its pods."""
        pdbs = {p["metadata"]["name"]: p["spec"] for p in out.kinds("PodDisruptionBudget")}
        assert set(pdbs) == {f"winnow-{n}" for n in WORKERS}
        for name, d in out.deployments().items():
            spec = pdbs[f"winnow-{name}"]
            assert spec["maxUnavailable"] == 1
            assert spec["selector"] == d["spec"]["selector"]

    def test_notes_warn_about_the_default_database_secret(self, out: Rendered) -> None:
        """NOTES.txt gives copy-paste commands and warns that the database Secret must exist."""
        assert "kubectl -n data logs job/winnow-migrations" in out.notes
        assert "helm -n data rollback winnow" in out.notes
        assert 'database.existingSecret is the default "winnow-database"' in out.notes
        for service in ("gateway", "monitor"):
            assert f'create Secret "winnow-database-{service}"' in out.notes


class TestGpuScorer:
    """ci/gpu-scorer-values.yaml: the scorer on an NVIDIA GPU."""

    @pytest.fixture(scope="class")
    @classmethod
    def out(cls, render: Render) -> Rendered:
        """The GPU scenario."""
        return render(scenario_values("gpu-scorer"))

    def test_scorer_limits_one_gpu_and_lands_on_gpu_nodes(self, out: Rendered) -> None:
        """The scorer limits nvidia.com/gpu, selects GPU nodes, tolerates their taint and uses the
        nvidia RuntimeClass."""
        pod = out.deployments()["scorer"]["spec"]["template"]["spec"]
        c = pod["containers"][0]
        assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert c["resources"]["limits"]["memory"] == "8Gi"
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
            "tolerations"
        ]
        assert pod["runtimeClassName"] == "nvidia"

    def test_scorer_uses_the_gpu_image_and_cuda_provider_first(self, out: Rendered) -> None:
        """The GPU scorer runs the -gpu image with CUDA first and CPU as fallback provider."""
        c = container(out.deployments()["scorer"])
        assert c["image"] == "ghcr.io/winnow/winnow:0.1.0-gpu"
        providers = json.loads(env_of(c)["WINNOW_ORT_PROVIDERS"]["value"])
        assert providers == ["CUDAExecutionProvider", "CPUExecutionProvider"]

    def test_gpu_rollout_does_not_need_a_spare_gpu(self, out: Rendered) -> None:
        """GPU Deployments replace pods without a surge pod, which would wait for a free GPU."""
        strategy = out.deployments()["scorer"]["spec"]["strategy"]["rollingUpdate"]
        assert strategy == {"maxSurge": 0, "maxUnavailable": 1}

    def test_other_services_stay_off_the_gpu(self, out: Rendered) -> None:
        """Validator and curator ask for no GPU and keep the CPU image."""
        for name in ("validator", "curator"):
            pod = out.deployments()[name]["spec"]["template"]["spec"]
            assert "nvidia.com/gpu" not in pod["containers"][0]["resources"].get("limits", {})
            assert "nodeSelector" not in pod
            assert "tolerations" not in pod
            assert pod["containers"][0]["image"] == "ghcr.io/winnow/winnow:0.1.0"


class TestKeda:
    """ci/keda-values.yaml: KEDA on consumer lag, Kafka over SASL_SSL."""

    @pytest.fixture(scope="class")
    @classmethod
    def out(cls, render: Render) -> Rendered:
        """The KEDA scenario."""
        return render(scenario_values("keda"))

    def test_a_scaled_object_per_service_and_no_hpa(self, out: Rendered) -> None:
        """Each service gets a ScaledObject targeting its Deployment and no HPA is rendered."""
        assert out.kinds("HorizontalPodAutoscaler") == []
        targets = {s["spec"]["scaleTargetRef"]["name"] for s in out.kinds("ScaledObject")}
        assert targets == {f"winnow-{n}" for n in LAG_SCALED}
        for d in out.kinds("Deployment"):
            scaled = d["metadata"]["name"].removeprefix("winnow-") in LAG_SCALED
            assert ("replicas" in d["spec"]) is not scaled

    def test_triggers_watch_each_service_input_topics(self, out: Rendered) -> None:
        """Lag triggers name the service's consumer group and input topics, with SASL/TLS and
        the existing TriggerAuthentication, plus the fallback replicas."""
        objs = {s["metadata"]["name"]: s["spec"] for s in out.kinds("ScaledObject")}
        validator = [t for t in objs["winnow-validator"]["triggers"] if t["type"] == "kafka"]
        assert [t["metadata"]["topic"] for t in validator] == [
            "winnow.sources.tickets",
            "winnow.sources.feedback",
            "winnow.sources.synthetic",
        ]
        scorer = objs["winnow-scorer"]
        kafka = [t for t in scorer["triggers"] if t["type"] == "kafka"]
        assert len(kafka) == 1
        meta = kafka[0]["metadata"]
        assert meta["topic"] == "winnow.candidates"
        assert meta["consumerGroup"] == "winnow-scorer"
        assert meta["lagThreshold"] == "500"
        assert meta["sasl"] == "scram_sha512"
        assert meta["tls"] == "enable"
        assert kafka[0]["authenticationRef"] == {"name": "winnow-kafka-trigger-auth"}
        assert scorer["fallback"] == {"failureThreshold": 3, "replicas": 2}
        assert any(t["type"] == "cpu" for t in scorer["triggers"])

    def test_sasl_password_and_ca_are_mounted_files(self, out: Rendered) -> None:
        """The SASL password and broker CA come from existing Secrets as read-only files, named by
        the WINNOW_KAFKA_*_FILE settings; the protocol and mechanism go in the ConfigMap."""
        config = out.one("ConfigMap", "winnow")["data"]
        assert config["WINNOW_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert config["WINNOW_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert config["WINNOW_KAFKA_SASL_USERNAME"] == "winnow"
        for d in [*out.kinds("Deployment"), *out.kinds("Job")]:
            c = container(d)
            env = env_of(c)
            assert (
                env["WINNOW_KAFKA_SASL_PASSWORD_FILE"]["value"] == "/etc/winnow/kafka-sasl/password"
            )
            assert env["WINNOW_KAFKA_SSL_CAFILE"]["value"] == "/etc/winnow/kafka-tls/ca.crt"
            mounts = {m["name"]: m for m in c["volumeMounts"]}
            assert mounts["kafka-sasl"]["readOnly"] is True
            volumes = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]}
            assert volumes["kafka-sasl"]["secret"]["secretName"] == "winnow-kafka-user"
            ca = volumes["kafka-tls"]["projected"]["sources"][0]["secret"]
            assert ca["name"] == "winnow-kafka-cluster-ca-cert"


class TestExternalPostgresql:
    """ci/external-postgresql-values.yaml: CloudNativePG or managed PostgreSQL."""

    @pytest.fixture(scope="class")
    @classmethod
    def out(cls, render: Render) -> Rendered:
        """The external PostgreSQL scenario."""
        return render(scenario_values("external-postgresql"))

    def test_url_is_built_and_password_comes_from_the_cnpg_secret(self, out: Rendered) -> None:
        """The curator and the migration Job get a psycopg URL without password and PGPASSWORD from
        the CloudNativePG app Secret."""
        for obj in (out.deployments()["curator"], out.one("Job", "winnow-migrations")):
            env = env_of(container(obj))
            assert env["WINNOW_DATABASE_URL"]["value"] == (
                "postgresql+psycopg://winnow@winnow-pg-rw.databases.svc:5432/winnow?sslmode=require"
            )
            ref = env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "winnow-pg-app", "key": "password"}

    def test_network_policy_limits_database_egress_to_the_cluster(self, out: Rendered) -> None:
        """PostgreSQL egress goes only to the CNPG cluster's pods."""
        egress = out.one("NetworkPolicy", "winnow")["spec"]["egress"]
        db = [r for r in egress if r["ports"] == [{"port": 5432, "protocol": "TCP"}]]
        assert len(db) == 1
        assert db[0]["to"][0]["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "winnow-pg"}}


class TestEverythingOff:
    """ci/everything-off-values.yaml: every optional part disabled."""

    def test_only_config_deployments_and_services_remain(self, render: Render) -> None:
        """With every toggle off only the ConfigMap, Deployments and Services render, without
        probes, and pods run as the namespace's default ServiceAccount."""
        out = render(scenario_values("everything-off"))
        assert {o["kind"] for o in out.objects} == {"ConfigMap", "Deployment", "Service"}
        for d in out.kinds("Deployment"):
            pod = d["spec"]["template"]["spec"]
            assert pod["serviceAccountName"] == "default"
            c = pod["containers"][0]
            assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(c)


class TestFull:
    """ci/full-values.yaml: every optional part on."""

    @pytest.fixture(scope="class")
    @classmethod
    def out(cls, render: Render) -> Rendered:
        """The everything-on scenario."""
        return render(scenario_values("full"))

    def test_hpa_fallback_scales_on_cpu_when_keda_is_off(self, out: Rendered) -> None:
        """Without KEDA, autoscaled services get a CPU HPA; the others keep fixed replicas."""
        assert out.kinds("ScaledObject") == []
        hpas = {
            h["spec"]["scaleTargetRef"]["name"]: h["spec"]
            for h in out.kinds("HorizontalPodAutoscaler")
        }
        assert set(hpas) == {"winnow-validator", "winnow-scorer"}
        metric = hpas["winnow-scorer"]["metrics"][0]["resource"]
        assert metric == {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 75},
        }
        assert out.deployments()["curator"]["spec"]["replicas"] == 1

    def test_topic_provisioning_job_and_strimzi_topics(self, out: Rendered) -> None:
        """The topic Job runs after the migrations; a KafkaTopic exists for each of the ten topics,
        kept on uninstall and labelled with the Strimzi cluster."""
        weights = {
            j["metadata"]["name"]: int(j["metadata"]["annotations"]["helm.sh/hook-weight"])
            for j in out.kinds("Job")
        }
        assert weights["winnow-migrations"] < weights["winnow-topics"]
        assert container(out.one("Job", "winnow-topics"))["args"] == ["topics", "create"]
        topics = out.kinds("KafkaTopic")
        assert sorted(t["spec"]["topicName"] for t in topics) == sorted(
            ["winnow.sources.tickets", "winnow.sources.feedback", "winnow.sources.synthetic"]
            + [
                f"winnow.{t}"
                for t in ("candidates", "scored", "curated", "rejected", "dlq", "alerts", "retrain")
            ]
        )
        for t in topics:
            assert t["metadata"]["labels"]["strimzi.io/cluster"] == "winnow-kafka"
            assert t["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
            assert t["spec"]["replicas"] == 3
        dlq = next(t for t in topics if t["spec"]["topicName"] == "winnow.dlq")
        # Seven days like the other topics (was 30): the DLQ holds unredacted bytes.
        assert dlq["spec"]["config"]["retention.ms"] == 7 * 86_400_000

    def test_models_are_fetched_by_an_init_container(self, out: Rendered) -> None:
        """models.source=url adds a locked-down init container that fetches and checks the artefact
        into an emptyDir mounted read-only as the scorer's WINNOW_MODELS_DIR and opens HTTPS."""
        pod = out.deployments()["scorer"]["spec"]["template"]["spec"]
        init = pod["initContainers"][0]
        env = env_of(init)
        assert env["MODELS_URL"]["value"].startswith("https://")
        assert len(env["MODELS_SHA256"]["value"]) == 64
        assert "sha256" in init["command"][2]
        c = pod["containers"][0]
        assert env_of(c)["WINNOW_MODELS_DIR"]["value"] == "/models"
        assert {"name": "models", "mountPath": "/models", "readOnly": True} in c["volumeMounts"]
        assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == "models")
        egress_ports = [
            p["port"]
            for r in out.one("NetworkPolicy", "winnow")["spec"]["egress"]
            for p in r["ports"]
        ]
        assert 443 in egress_ports

    def test_mutual_tls_client_certificate_is_mounted(self, out: Rendered) -> None:
        """With SSL and a client Secret, the certificate and key files are mounted and named."""
        env = env_of(container(out.deployments()["validator"]))
        assert env["WINNOW_KAFKA_SSL_CERTFILE"]["value"] == "/etc/winnow/kafka-tls/tls.crt"
        assert env["WINNOW_KAFKA_SSL_KEYFILE"]["value"] == "/etc/winnow/kafka-tls/tls.key"
        assert "WINNOW_KAFKA_SASL_PASSWORD_FILE" not in env

    def test_api_key_pepper_reaches_only_the_listed_services(self, out: Rendered) -> None:
        """WINNOW_API_KEY_PEPPER comes from its Secret only for apiKeyPepper.services."""
        has = {
            n
            for n, d in out.deployments().items()
            if "WINNOW_API_KEY_PEPPER" in env_of(container(d))
        }
        assert has == {"gateway"}

    def test_image_digest_wins_over_tag(self, out: Rendered) -> None:
        """image.digest pins every CPU container by digest."""
        for d in out.kinds("Deployment"):
            assert container(d)["image"] == "ghcr.io/winnow/winnow@sha256:" + "0" * 64

    def test_service_monitor_scrapes_metrics_keeping_service_labels(self, out: Rendered) -> None:
        """The ServiceMonitor scrapes /metrics on the http port of the release's Services and keeps
        the services' own `service` label."""
        sm = out.one("ServiceMonitor", "winnow")
        assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        endpoint = sm["spec"]["endpoints"][0]
        assert (endpoint["port"], endpoint["path"], endpoint["honorLabels"]) == (
            "http",
            "/metrics",
            True,
        )
        assert sm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "winnow"

    def test_prometheus_rule_carries_the_data_quality_alerts(self, out: Rendered) -> None:
        """The PrometheusRule alerts on reject rate, DLQ spikes, silent sources and store write
        failures, each scoped to the release's jobs."""
        rules = out.one("PrometheusRule", "winnow")["spec"]["groups"][0]["rules"]
        by_name = {r["alert"]: r for r in rules}
        assert {
            "WinnowHighRejectRate",
            "WinnowDeadLetterSpike",
            "WinnowSourceSilent",
            "WinnowStoreWriteFailures",
        } <= set(by_name)
        assert "winnow_examples_rejected_total" in by_name["WinnowHighRejectRate"]["expr"]
        assert "> 0.5" in by_name["WinnowHighRejectRate"]["expr"]
        assert "winnow_dead_letters_total" in by_name["WinnowDeadLetterSpike"]["expr"]
        assert r'topic=~"winnow\\.sources\\..*"' in by_name["WinnowSourceSilent"]["expr"]
        assert "winnow_store_errors_total" in by_name["WinnowStoreWriteFailures"]["expr"]
        for rule in rules:
            assert 'namespace="data", job=~"winnow-.*"' in rule["expr"], rule["alert"]
            assert rule["annotations"]["summary"]
        # Prometheus templates survive Helm's templating verbatim.
        spike = by_name["WinnowDeadLetterSpike"]["annotations"]
        assert spike["summary"] == "Dead letters from {{ $labels.service }} ({{ $labels.reason }})."
        assert "to winnow.dlq" in spike["description"]

    def test_alerts_and_dashboard_use_metrics_and_labels_the_services_export(
        self, out: Rendered
    ) -> None:
        """Every winnow_* series in the rules and the dashboard exists in winnow.metrics, and every
        `sum by` label is one of that metric's labels (or `le`)."""
        metrics = pytest.importorskip("winnow.metrics")
        from prometheus_client.metrics import MetricWrapperBase

        exported: dict[str, set[str]] = {}
        for m in vars(metrics).values():
            if isinstance(m, MetricWrapperBase):
                suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
                for suffix in suffixes.get(m._type, [""]):
                    exported[m._name + suffix] = set(m._labelnames) | {"le"}
        rules = out.one("PrometheusRule", "winnow")["spec"]["groups"][0]["rules"]
        dashboard = json.loads(out.one("ConfigMap", "winnow-dashboard")["data"]["winnow.json"])
        exprs = [r["expr"] for r in rules] + [
            t["expr"] for p in dashboard["panels"] for t in p["targets"]
        ]
        used = 0
        for expr in exprs:
            for name in re.findall(r"\bwinnow_\w+", expr):
                assert name in exported, name
                used += 1
            for labels, name in re.findall(
                r"by \(([\w, ]+)\) \((?:rate|increase)\((winnow_\w+)", expr
            ):
                assert {x.strip() for x in labels.split(",")} <= exported[name], (labels, name)
        assert used > 10

    def test_grafana_dashboard_is_valid_json_on_the_exported_metrics(self, out: Rendered) -> None:
        """The dashboard ConfigMap carries valid JSON whose panels query the services' metrics."""
        cm = out.one("ConfigMap", "winnow-dashboard")
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        dashboard = json.loads(cm["data"]["winnow.json"])
        exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
        for metric in (
            "winnow_events_in_total",
            "winnow_dead_letters_total",
            "winnow_examples_curated_total",
            "winnow_examples_rejected_total",
            "winnow_processing_seconds_bucket",
            "winnow_store_write_seconds_bucket",
        ):
            assert metric in exprs
        release = next(v for v in dashboard["templating"]["list"] if v["name"] == "release")
        assert release["query"] == "winnow"

    def test_topology_spread_selects_each_service(self, out: Rendered) -> None:
        """Topology spread constraints get the service's selector filled in."""
        for name, d in out.deployments().items():
            tsc = d["spec"]["template"]["spec"]["topologySpreadConstraints"][0]
            assert tsc["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == name
            assert tsc["topologyKey"] == "topology.kubernetes.io/zone"


class TestValuesHandling:
    """Edge cases of names, values and the schema."""

    def test_long_release_names_are_cut_to_63_characters(self, render: Render) -> None:
        """A 60-character release name still yields valid names that end in the component."""
        out = render({}, name="r" * 60)
        for obj in out.objects:
            assert len(obj["metadata"]["name"]) <= 63
            validate_object(obj)
        assert {n[-10:] for n in (d["metadata"]["name"] for d in out.kinds("Deployment"))} == {
            "-validator",
            "rr-curator",
            "rrr-scorer",
            "rr-gateway",
            "rr-monitor",
        }

    @pytest.mark.parametrize(
        ("values", "where"),
        [
            ({"services": {"scorer": {"replicaCount": "two"}}}, "/services/scorer/replicaCount"),
            ({"kafka": {"security": {"protocol": "TLS"}}}, "/kafka/security/protocol"),
            ({"scorer": {"gpu": {"enabled": True}}}, "additional properties 'scorer'"),
            ({"models": {"source": "huggingface"}}, "/models/source"),
        ],
    )
    def test_schema_refuses_wrong_values(
        self, chart: Any, values: dict[str, Any], where: str
    ) -> None:
        """values.schema.json refuses wrong types, unknown enums and misspelt top-level blocks,
        and rendering with them fails instead of producing a broken release."""
        with pytest.raises(helm_python.HelmValuesError, match=re.escape(where)):
            chart.validate_schema(values)
        with pytest.raises(helm_python.HelmValuesError):
            chart.render(values, name="winnow", namespace=NAMESPACE)

    def test_config_map_turns_camel_case_into_winnow_settings(
        self, render: Render, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`config` keys become WINNOW_UPPER_SNAKE names of real settings whose JSON-encoded
        numbers, booleans and lists the settings parse back (no float exponent for big integers)."""
        out = render(
            {
                "config": {
                    "maxEventBytes": 1048576,
                    "kafkaSessionTimeoutS": 12.5,
                    "sourceTopics": ["a"],
                    "kafkaIdempotence": False,
                }
            }
        )
        data = out.one("ConfigMap", "winnow")["data"]
        assert data["WINNOW_MAX_EVENT_BYTES"] == "1048576"
        assert data["WINNOW_KAFKA_SESSION_TIMEOUT_S"] == "12.5"
        assert data["WINNOW_SOURCE_TOPICS"] == '["a"]'
        assert data["WINNOW_KAFKA_IDEMPOTENCE"] == "false"
        assert set(data) <= known_settings() | PENDING_SETTINGS
        for name, value in data.items():
            monkeypatch.setenv(name, value)
        parsed = Settings()
        assert parsed.max_event_bytes == 1048576
        assert parsed.kafka_session_timeout_s == 12.5
        assert parsed.source_topics == ["a"]
        assert parsed.kafka_idempotence is False
        assert parsed.web_host == "0.0.0.0"

    def test_missing_required_secret_fails_the_render(self, chart: Any) -> None:
        """An external PostgreSQL without a password Secret fails rendering with a clear message."""
        with pytest.raises(
            helm_python.HelmRenderError, match=r"database\.external\.existingSecret is required"
        ):
            chart.render(
                {"database": {"external": {"host": "pg"}}}, name="winnow", namespace=NAMESPACE
            )


def test_gpu_scorer_gets_the_measured_tuning(render: Render) -> None:
    """The GPU scorer runs 6 workers at batch 1024 (the H200 measurement); CPU scorers get none."""
    gpu_env = env_of(container(render(scenario_values("gpu-scorer")).deployments()["scorer"]))
    assert gpu_env["WINNOW_SCORER_WORKERS"]["value"] == "6"
    assert gpu_env["WINNOW_BATCH_MAX"]["value"] == "1024"
    assert gpu_env["WINNOW_SCORE_BATCH_MAX"]["value"] == "2048"
    assert gpu_env["WINNOW_BATCH_WAIT_S"]["value"] == "0.05"
    cpu_env = env_of(container(render(scenario_values("default")).deployments()["scorer"]))
    assert "WINNOW_SCORER_WORKERS" not in cpu_env


def test_gateway_alone_gets_the_api_key_pepper(render: Render) -> None:
    """With an existing pepper Secret, the gateway and the monitor (which check API keys, the
    monitor for /dashboard) get it, and no other service does; they run `winnow serve ...`."""
    out = render({"apiKeyPepper": {"existingSecret": "winnow-pepper"}})
    deployments = out.deployments()
    with_pepper = {
        n for n, d in deployments.items() if "WINNOW_API_KEY_PEPPER" in env_of(container(d))
    }
    assert with_pepper == {"gateway", "monitor"}
    pepper = env_of(container(deployments["gateway"]))["WINNOW_API_KEY_PEPPER"]
    assert pepper["valueFrom"]["secretKeyRef"]["name"] == "winnow-pepper"
    assert container(deployments["gateway"])["args"] == ["serve", "gateway"]
    assert container(deployments["monitor"])["args"] == ["serve", "monitor"]


def test_privacy_keys_reach_only_the_validator(render: Render) -> None:
    """The DLQ sealing key and the subject-hash key come from their Secrets to the validator
    only (the one service that seals dead letters and hashes removed identifiers); none is set
    by default."""
    out = render(
        {
            "privacy": {
                "dlqKey": {"existingSecret": "winnow-dlq"},
                "subjectKey": {"existingSecret": "winnow-subjects", "existingSecretKey": "k"},
            }
        }
    )
    deployments = out.deployments()
    for name in ("WINNOW_DLQ_KEY", "WINNOW_PII_SUBJECT_KEY"):
        assert {n for n, d in deployments.items() if name in env_of(container(d))} == {"validator"}
    env = env_of(container(deployments["validator"]))
    assert env["WINNOW_DLQ_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "winnow-dlq",
        "key": "dlq-key",
    }
    assert env["WINNOW_PII_SUBJECT_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "winnow-subjects"
    default = env_of(container(render({}).deployments()["validator"]))
    assert "WINNOW_DLQ_KEY" not in default and "WINNOW_PII_SUBJECT_KEY" not in default
