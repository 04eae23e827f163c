"""All runtime configuration, read once from ``WINNOW_*`` environment variables.

Every field's description is the documentation: ``winnow settings doc`` renders the table in
``docs/configuration.md`` from this class, and a test fails when the two drift.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from winnow.settings_conversations import ConversationSettings
from winnow.settings_dedup import DedupSettings
from winnow.settings_gateway import GatewaySettings
from winnow.settings_privacy import PrivacySettings
from winnow.settings_snapshots import SnapshotStoreSettings


class RetrainThreshold(BaseModel):
    """One domain's retrain thresholds; a field left out keeps the global setting."""

    min_examples: int | None = Field(None, ge=0)
    min_tokens: int | None = Field(None, ge=0)


class ScoreLimits(BaseModel):
    """Lowest model scores an example may have; a field left out (or null) sets no bound here."""

    model_config = ConfigDict(extra="forbid")

    reward: float | None = Field(None, description="Lowest reward-model score.")
    relevance: float | None = Field(None, description="Lowest answer-to-prompt cosine.")
    domain_confidence: float | None = Field(None, description="Lowest router confidence.")
    reward_quantile: float | None = Field(
        None, ge=0, le=1, description="Lowest reward rank in its domain (models/reward/quantiles)."
    )


def _default_score_thresholds() -> dict[str, dict[str, float]]:
    return {
        # The reward head scores good support answers 0.44-0.62 (docs/benchmarks.md): bounds sit
        # below that band so they drop outliers, not the median synthetic answer.
        "default": {"reward": 0.2, "relevance": 0.2},
        "synthetic": {"reward": 0.45, "relevance": 0.3},
    }


class Settings(
    PrivacySettings, SnapshotStoreSettings, GatewaySettings, ConversationSettings, DedupSettings
):
    """Winnow's settings; construct through :func:`get_settings` so a process builds them once."""

    model_config = SettingsConfigDict(env_prefix="WINNOW_", extra="ignore")

    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated host:port."
    )
    kafka_idempotence: bool = Field(
        True,
        description="Idempotent producers (acks=all). On for real Kafka; the embedded Tansu "
        "broker refuses them, so `winnow up` and the tests turn it off.",
    )
    kafka_session_timeout_s: float = Field(
        10.0, description="Consumer group session timeout (real Kafka refuses < 6 s by default)."
    )
    kafka_heartbeat_s: float = Field(3.0, description="Consumer group heartbeat interval.")
    kafka_rebalance_timeout_s: float = Field(10.0, description="Consumer group rebalance timeout.")
    kafka_commit_interval_s: float = Field(
        1.0, description="How often processed (acknowledged) offsets are committed."
    )
    kafka_fetch_max_wait_ms: int = Field(
        100,
        ge=0,
        le=60_000,
        description="Longest a consumer fetch waits on the broker for new data (faust's own "
        "fixed value is 1500 ms). Lower: less event -> store latency at low rates, more idle "
        "fetch requests; `winnow bench e2e` measured p99 2.51 s at 1500 and 1.28 s at 100.",
    )
    topic_prefix: str = Field("winnow", description="Prefix of every topic name.")
    topic_partitions: int = Field(4, ge=1, description="Partitions of topics Winnow creates.")
    topic_replication: int = Field(
        1, ge=1, description="Replication factor of topics Winnow creates (3 in production)."
    )
    source_topics: list[str] = Field(
        default_factory=lambda: ["tickets", "feedback", "synthetic"],
        description="Source topic suffixes the validator reads (JSON list).",
    )

    # --- Store -------------------------------------------------------------------------------
    database_url: str = Field(
        "sqlite:///var/winnow.db",
        description="SQLAlchemy URL of the store: PostgreSQL "
        "(`postgresql+psycopg://user@host/db`) in production, a SQLite file by default.",
    )
    db_auto_migrate: bool = Field(
        True,
        description="The curator applies Alembic migrations at start. Off in Kubernetes, where "
        "a Helm hook Job runs `winnow db upgrade` once per release.",
    )
    store_retry_max_s: float = Field(
        30.0, description="Longest back-off between retries while the store is unreachable."
    )
    store_connect_timeout_s: float = Field(
        10.0, gt=0, description="PostgreSQL connect timeout, whole seconds (at least 2)."
    )
    store_statement_timeout_s: float = Field(
        60.0,
        ge=0,
        description="PostgreSQL `statement_timeout` of the services' sessions (0: none).",
    )
    store_ping_interval_s: float = Field(
        5.0,
        gt=0,
        description="How often the curator pings the store, so `/readyz` turns not-ready during "
        "an outage even when no batch is being written.",
    )

    # --- Stages ------------------------------------------------------------------------------
    max_event_bytes: int = Field(
        262_144, ge=1024, description="Source events larger than this go to the DLQ (oversize)."
    )
    lone_surrogates: Literal["refuse", "replace"] = Field(
        "refuse",
        description="A lone UTF-16 surrogate in a source event: `refuse` (schema_violation naming "
        "the field) or `replace` with U+FFFD; set alike on the gateway and the validator.",
    )
    batch_max: int = Field(256, ge=1, description="Largest batch an agent takes from a topic.")
    batch_wait_s: float = Field(
        0.2, gt=0, description="Longest wait to fill a batch before processing what arrived."
    )
    min_answer_chars: int = Field(
        20, ge=0, description="Answers shorter than this are rejected (too_short)."
    )
    max_answer_chars: int = Field(
        8000, ge=1, description="Answers longer than this are rejected (too_long)."
    )
    max_prompt_chars: int = Field(
        16000,
        ge=1,
        description="Prompts (all turns before the answer) longer than this are rejected.",
    )

    # --- Scoring models ----------------------------------------------------------------------
    models_dir: Path = Field(
        Path("models"),
        description="Folder of the quality models: `embedder/` (built by `winnow models build`), "
        "`heads/` (committed router and reward heads) and `reward/` (committed cross-encoder).",
    )
    datasets_dir: Path | None = Field(
        None,
        description="Folder holding the public datasets used by training and benchmark commands "
        "(`../shared/data` in this workspace); commands also take `--data-root`.",
    )
    ort_providers: list[str] = Field(
        default_factory=lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
        description="ONNX Runtime execution providers, best first (JSON list). CUDA runs the fp16 "
        "embedder; the CPU the int8 one. CUDA asked for but absent is logged once, never fatal.",
    )
    ort_intra_op_threads: int = Field(
        0, ge=0, description="Threads ONNX Runtime uses inside one operator (0: one per core)."
    )
    ort_inter_op_threads: int = Field(
        1, ge=0, description="Threads ONNX Runtime uses to run independent operators in parallel."
    )
    ort_graph_optimization: Literal["disable", "basic", "extended", "all"] = Field(
        "all", description="ONNX Runtime graph optimisation level."
    )
    ort_log_severity: int = Field(
        3, ge=0, le=4, description="ONNX Runtime's own log level (0 verbose ... 3 error, 4 fatal)."
    )
    embedder_precision: Literal["auto", "fp32", "fp16", "int8"] = Field(
        "auto",
        description="Embedder file to run: `auto` is fp16 on CUDA and int8 on the CPU; fp32 is the "
        "reference (slower, for checks).",
    )
    reward_model: Literal["cross", "head"] = Field(
        "cross",
        description="Reward model: `cross` reads (conversation context, response) jointly "
        "(`models/reward/cross.int8.onnx`, MiniLM fine-tuned on preference pairs: far better on "
        "support replies, but a second transformer pass per response, which more than halves "
        "the scorer's CPU throughput, see docs/benchmarks.md); `head` is the cheap MLP over the "
        "question and answer embeddings (`models/heads/reward.onnx`). `cross` falls back to "
        "`head`, with a warning, when its artefact is missing.",
    )
    max_tokens: int = Field(
        256,
        ge=8,
        le=512,
        description="Texts are cut to this many tokens before embedding; cut examples get the "
        "`truncated` flag.",
    )
    score_batch_max: int = Field(
        64, ge=1, description="Most texts per embedder call inside one scoring batch."
    )
    router_min_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Domain router confidence below which the domain is `other`; unset uses the "
        "threshold calibrated at training time (in the router's model card).",
    )

    # --- Exports and retraining ---------------------------------------------------------------
    snapshot_dir: Path = Field(
        Path("var/snapshots"),
        description="Folder of retrain snapshots: `<tenant>/<domain>/<snapshot id>/` under it.",
    )
    snapshot_format: Literal["openai-chat", "dpo", "kto", "parquet"] = Field(
        "parquet",
        description="Format of retrain snapshots; `parquet` keeps every kind (SFT, preference, "
        "negative) with scores and provenance.",
    )
    export_tokenizer: Literal["auto", "minilm", "chars"] = Field(
        "auto",
        description="How exports count tokens: `minilm` uses the embedder's WordPiece tokenizer "
        "under `models_dir`, `chars` one token per 4 characters, `auto` the first that is there.",
    )
    retrain_min_examples: int = Field(
        1000,
        ge=0,
        description="A domain is due for retraining once it gains this many curated examples "
        "since its last retrain snapshot (0 turns this criterion off).",
    )
    retrain_min_tokens: int = Field(
        200_000,
        ge=0,
        description="A domain is due for retraining once it gains this many tokens since its "
        "last retrain snapshot (0 turns this criterion off).",
    )
    retrain_domain_thresholds: dict[str, RetrainThreshold] = Field(
        default_factory=dict,
        description='Per-domain overrides of the two thresholds (JSON), e.g. `{"billing": '
        '{"min_examples": 200, "min_tokens": 50000}}`; a missing key keeps the default.',
    )
    retrain_check_interval_s: float = Field(
        60.0, gt=0, description="How often the curator checks whether a domain is due."
    )

    # --- Curation filters ------------------------------------------------------------------
    allowed_languages: list[str] = Field(
        default_factory=lambda: ["en"],
        description="ISO 639-1 codes of the answer languages kept (JSON list); empty keeps all.",
    )
    language_candidates: list[str] = Field(
        default_factory=lambda: [
            "en",
            "es",
            "fr",
            "de",
            "it",
            "pt",
            "nl",
            "pl",
            "ru",
            "tr",
            "ar",
            "zh",
            "ja",
            "ko",
            "hi",
            "id",
            "vi",
            "sv",
        ],
        description="Languages the detector chooses among (JSON list, ISO 639-1); the allowed ones "
        "are always added. Fewer is faster; a language left out is reported as its nearest one.",
    )
    language_min_chars: int = Field(
        20, ge=0, description="Answers with fewer letters than this are not language-checked."
    )
    min_csat: int | None = Field(
        3, ge=1, le=5, description="Tickets with a CSAT (1-5) below this are rejected; unset: off."
    )
    boilerplate_min_substance_chars: int = Field(
        40,
        ge=0,
        description="An answer made of refusals, escalations, 'contact support' and pleasantries "
        "is boilerplate unless its other sentences hold at least this many characters.",
    )
    min_alpha_ratio: float | None = Field(
        0.5,
        ge=0,
        le=1,
        description="Answers whose letters are fewer than this fraction of their non-space "
        "characters are rejected (non_text); unset: off.",
    )
    max_duplicate_line_fraction: float | None = Field(
        0.3, ge=0, le=1, description="Largest fraction of repeated lines (repetitive); unset: off."
    )
    max_top_ngram_fraction: float | None = Field(
        0.25,
        ge=0,
        le=1,
        description="Largest fraction of characters in the most frequent word 2-gram (3- and "
        "4-grams get 0.02 and 0.04 less, as in Gopher, whose 0.20 flags templated support "
        "answers, measured on Bitext); unset: off.",
    )
    max_duplicate_ngram_fraction: float | None = Field(
        0.25,
        ge=0,
        le=1,
        description="Largest fraction of characters in repeated word 5-grams (6- to 10-grams get "
        "0.01 less each; Gopher uses 0.15, too strict for short answers); unset: off.",
    )
    score_thresholds: dict[str, ScoreLimits] = Field(
        default_factory=_default_score_thresholds,
        validate_default=True,
        description="Lowest `reward`, `relevance` and `domain_confidence` (JSON). Keys apply in "
        "this order, later ones overriding per score: `default`, `domain:<domain>`, `synthetic` "
        "(any `synthetic:*` provenance), `provenance:<provenance>`. A score the models did not "
        'set is not checked. E.g. `{"default": {"reward": 0.3}, "synthetic": {"reward": 0.5}, '
        '"domain:refund": {"relevance": 0.5}}`.',
    )
    reward_min_quantile: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="Drop answers whose reward ranks below this quantile of their domain's "
        "reference rewards (`models/reward/quantiles.json`; `winnow models reward-quantiles`), "
        "e.g. 0.1 drops each domain's weakest 10%. A `reward_quantile` in "
        "`WINNOW_SCORE_THRESHOLDS` overrides it for its key; unset: off.",
    )
    dedup_near_threshold: float = Field(
        0.75,
        gt=0,
        le=1,
        description="Jaccard similarity of normalised 5-character shingles from which an example "
        "is a near duplicate of a stored one (LSH finds candidates, the exact Jaccard decides; "
        "measured by `python -m winnow.bench.dedup_table`).",
    )
    curate_extra_filters: list[str] = Field(
        default_factory=list,
        description="Your own curation filters, run after Winnow's: import paths "
        '`module:attribute` (JSON list, e.g. `["mypkg.filters:NoProfanity"]`) of an '
        "`ExampleFilter` instance, subclass or zero-argument factory. A filter that raises "
        "dead-letters that example (`processing_error`); the stream goes on.",
    )

    # --- Monitoring --------------------------------------------------------------------------
    monitor_window_s: float = Field(
        60.0,
        gt=0,
        description="Length of the monitor's tumbling window: statistics, drift, expectation "
        "suites and alert rules are evaluated once per window.",
    )
    monitor_rules_path: Path | None = Field(
        None,
        description="YAML file of alert rules; unset: the packaged "
        "`services/winnow/monitor/rules.yaml`.",
    )
    monitor_suites_dir: Path | None = Field(
        None,
        description="Folder of Great Expectations suite JSON files; unset: the packaged "
        "`services/winnow/monitor/suites/`.",
    )
    monitor_ge_max_rows: int = Field(
        5000,
        ge=1,
        description="Most rows of one window kept for the expectation suites and the score "
        "drift (past it, both work on the first rows of the window).",
    )
    monitor_drift_reference: Literal["pinned", "rolling"] = Field(
        "rolling",
        description="Drift reference: `pinned` (the first windows with enough data, then frozen) "
        "or `rolling` (the windows just before the current one).",
    )
    monitor_drift_reference_windows: int = Field(
        5, ge=1, description="Windows that make up the drift reference."
    )
    monitor_drift_min_samples: int = Field(
        50, ge=1, description="Fewest values on each side for a drift (PSI) value to be computed."
    )
    monitor_windows_page: bool = Field(
        False, description="Serve the monitor's unauthenticated, per-tenant `/windows` page."
    )
    monitor_dashboard_refresh_s: float = Field(
        5.0,
        gt=0,
        description="How often the monitor's `/dashboard` page refreshes its charts (seconds).",
    )
    monitor_dashboard_lookback_h: float = Field(
        24.0,
        gt=0,
        description="Hours of store history `/dashboard` charts (accept rate, reasons, score "
        "histograms); dataset sizes are always all time.",
    )
    alert_webhook_url: str | None = Field(
        None, description="Webhook receiving fired and resolved alerts; unset: none."
    )
    alert_webhook_format: Literal["alertmanager", "slack"] = Field(
        "alertmanager",
        description='Webhook body: Alertmanager v4 JSON or a Slack-style `{"text": ...}`.',
    )
    alert_webhook_timeout_s: float = Field(5.0, gt=0, description="Timeout of one webhook request.")
    alert_webhook_retries: int = Field(
        3, ge=0, description="Retries of a webhook request that failed or got a 5xx answer."
    )
    alert_external_url: str = Field(
        "", description="Public URL of the monitor, linked from alerts (`generatorURL`)."
    )

    # --- Service runtime ---------------------------------------------------------------------
    scorer_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Scorer processes sharing one host or GPU behind one health and metrics "
        "port (`winnow serve scorer`). The scorer is host-bound on a GPU: on an H200 1, 4 and 8 "
        "processes scored 10.5k, 23.1k and 31.9k events/s (docs/benchmarks.md).",
    )
    stop_grace_s: float = Field(
        10.0,
        ge=0,
        description="On SIGTERM, how long a service waits for the batch in hand to be written "
        "before it stops. If one is still unwritten then (the store is down), the service exits "
        "at once with status 75, committing nothing more; the batch is read again after restart.",
    )
    liveness_stall_s: float = Field(
        300.0,
        gt=0,
        description="`/healthz` fails when one batch has been in progress this long while the "
        "service reports ready (a hung agent); store outages do not count.",
    )
    web_host: str = Field(
        "127.0.0.1",
        description="Address every service's web server (health, metrics, gateway, monitor "
        "pages) binds; the Helm chart sets `0.0.0.0` so the pod is reachable.",
    )
    web_port: int = Field(
        6066, ge=1, le=65535, description="Port of the health and metrics server."
    )
    data_dir: Path = Field(Path("var"), description="Working directory for local state.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest log level written."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto",
        description="`console` for people, `json` for machines; `auto` (default): console when "
        "stderr is a terminal, JSON otherwise (log files, containers, pipes).",
    )

    # --- Gateway and security ---------------------------------------------------------------
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="How every Kafka client (faust and aiokafka) connects: `SASL_SSL` or `SSL` "
        "in production.",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism when the protocol is `SASL_*`."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(
        None, description="SASL password (prefer `WINNOW_KAFKA_SASL_PASSWORD_FILE`)."
    )
    kafka_sasl_password_file: Path | None = Field(
        None, description="File holding the SASL password (a mounted Secret); read at start."
    )
    kafka_ssl_cafile: Path | None = Field(
        None, description="PEM file of the CA(s) that sign the brokers' certificates."
    )
    kafka_ssl_certfile: Path | None = Field(
        None, description="PEM client certificate for mutual TLS."
    )
    kafka_ssl_keyfile: Path | None = Field(None, description="PEM private key of the client cert.")
    api_key_pepper: SecretStr | None = Field(
        None,
        description="Server-side secret mixed into every API key hash (prefer "
        "`WINNOW_API_KEY_PEPPER_FILE`); changing it invalidates every key.",
    )
    api_key_pepper_file: Path | None = Field(
        None, description="File holding the API key pepper (a mounted Secret); read at start."
    )

    @property
    def snapshot_root(self) -> str:
        """Where retrain snapshots go: ``snapshot_url``, else ``snapshot_dir`` as a local path."""
        return self.snapshot_url or str(self.snapshot_dir.resolve())

    @model_validator(mode="after")
    def _read_secret_files(self) -> Settings:
        # `*_FILE` variants: secrets come from mounted files, never from the image.
        for name in ("kafka_sasl_password", "api_key_pepper", "dlq_key", "pii_subject_key"):
            path: Path | None = getattr(self, f"{name}_file")
            if path is None:
                continue
            if getattr(self, name) is not None:
                raise ValueError(f"set {name} or {name}_file, not both")
            setattr(self, name, SecretStr(path.read_text(encoding="utf-8").rstrip("\r\n")))
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
