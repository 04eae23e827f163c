"""Exports from the store: formats, reproducibility, filters, tokens, snapshots, PII, tenants."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from winnow.export.exceptions import ExportError
from winnow.export.exporter import CARD, MANIFEST, export_snapshot, record, row_texts
from winnow.export.formats import ExportFormat
from winnow.export.parquet import read_parquet
from winnow.export.tokens import CharTokenCounter
from winnow.export.validate import check_dpo, check_kto, check_openai_chat
from winnow.pii.redact import find_pii
from winnow.store import ExampleStore
from winnow.store.queries import UNROUTED, ExampleQuery, snapshots
from winnow.store.store import EXAMPLES

from .seedlib import corpus, jsonl, make_example, seed

CHARS = CharTokenCounter()


def _export(
    store: ExampleStore, out: Path, fmt: ExportFormat = ExportFormat.OPENAI_CHAT, **filters: object
) -> dict:  # type: ignore[type-arg]
    query = ExampleQuery(filters.pop("tenant", "acme"), **filters)  # type: ignore[arg-type]
    return export_snapshot(store, query, fmt, out, counter=CHARS).manifest


class TestFormats:
    @pytest.mark.parametrize(
        ("fmt", "check"),
        [
            (ExportFormat.OPENAI_CHAT, check_openai_chat),
            (ExportFormat.DPO, check_dpo),
            (ExportFormat.KTO, check_kto),
        ],
    )
    def test_every_line_validates(
        self, store: ExampleStore, tmp_path: Path, fmt: ExportFormat, check: object
    ) -> None:
        """Every line of every per-domain file passes its format's check."""
        seed(store, corpus())
        manifest = _export(store, tmp_path / "out", fmt)
        assert manifest["files"], "nothing exported"
        for f in manifest["files"]:
            rows = jsonl(tmp_path / "out" / f["path"])
            assert len(rows) == f["rows"] > 0
            for row in rows:
                check(row)  # type: ignore[operator]

    def test_one_file_per_domain(self, store: ExampleStore, tmp_path: Path) -> None:
        """The router's domain decides the folder; unrouted examples get their own."""
        seed(store, corpus())
        manifest = _export(store, tmp_path / "out")
        assert [f["path"] for f in manifest["files"]] == [
            "billing/openai-chat.jsonl",
            "shipping/openai-chat.jsonl",
            f"{UNROUTED}/openai-chat.jsonl",
        ]
        billing = manifest["counts"]["by_domain"]["billing"]
        assert billing["by_kind"] == {"preference": 1, "sft": 2}
        assert billing["skipped_by_kind"] == {"negative": 1}

    def test_parquet_holds_every_kind(self, store: ExampleStore, tmp_path: Path) -> None:
        """Parquet keeps all kinds with scores and provenance, in id order."""
        seed(store, corpus())
        manifest = _export(store, tmp_path / "out", ExportFormat.PARQUET)
        rows = read_parquet(tmp_path / "out" / "billing" / "examples.parquet")
        assert sorted(r["kind"] for r in rows) == ["negative", "preference", "sft", "sft"]
        assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
        assert dict(rows[0]["scores"])["relevance"] == 0.5
        assert manifest["counts"]["examples"] == 6


class TestReproducibility:
    def test_same_inputs_same_bytes_and_hash(self, store: ExampleStore, tmp_path: Path) -> None:
        """Two exports of the same rows give byte-identical files, manifest and card."""
        seed(store, corpus())
        for fmt in ExportFormat:
            a, b = tmp_path / f"a-{fmt}", tmp_path / f"b-{fmt}"
            ma, mb = _export(store, a, fmt), _export(store, b, fmt)
            assert ma["snapshot_id"] == mb["snapshot_id"]
            files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
            assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
            for rel in files:
                assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel

    def test_new_row_changes_hash(self, store: ExampleStore, tmp_path: Path) -> None:
        """One more curated example gives another snapshot id."""
        seed(store, corpus())
        before = _export(store, tmp_path / "a")["snapshot_id"]
        seed(store, [make_example("New question?", "A brand new and helpful answer here.")])
        assert _export(store, tmp_path / "b")["snapshot_id"] != before

    def test_refuses_non_empty_folder(self, store: ExampleStore, tmp_path: Path) -> None:
        """An export never mixes its files with what a folder already holds."""
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "old.jsonl").write_text("{}\n")
        with pytest.raises(ExportError):
            _export(store, tmp_path / "out")


class TestFilters:
    def test_domain_filter(self, store: ExampleStore, tmp_path: Path) -> None:
        """--domain exports that domain only, and records the filter."""
        seed(store, corpus())
        manifest = _export(store, tmp_path / "out", domain="shipping")
        assert list(manifest["counts"]["by_domain"]) == ["shipping"]
        assert manifest["filters"]["domain"] == "shipping"
        assert manifest["counts"]["examples"] == 1

    def test_min_reward_filter(self, store: ExampleStore, tmp_path: Path) -> None:
        """--min-reward drops lower rewards and unscored examples."""
        seed(store, corpus())
        manifest = _export(store, tmp_path / "out", ExportFormat.PARQUET, min_reward=0.5)
        rows = [r for f in manifest["files"] for r in read_parquet(tmp_path / "out" / f["path"])]
        rewards = [dict(r["scores"]).get("reward") for r in rows]
        assert len(rows) == 4 and all(x is not None and x >= 0.5 for x in rewards)
        assert manifest["filters"]["min_reward"] == 0.5

    def test_since_filter(self, store: ExampleStore, tmp_path: Path) -> None:
        """--since keeps examples curated at or after the given time."""
        seed(store, corpus())
        old = datetime.now(UTC) - timedelta(days=2)
        with store.engine.begin() as conn:
            conn.execute(
                update(EXAMPLES).where(EXAMPLES.c.domain == "billing").values(stored_at=old)
            )
        since = datetime.now(UTC) - timedelta(days=1)
        manifest = _export(store, tmp_path / "out", since=since)
        assert "billing" not in manifest["counts"]["by_domain"]
        assert manifest["counts"]["examples"] == 2
        assert manifest["filters"]["since"] == since.isoformat()

    def test_tenant_isolation(self, store: ExampleStore, tmp_path: Path) -> None:
        """Tenant A's export holds none of tenant B's rows, and B's holds only its own."""
        examples = corpus()
        seed(store, examples)
        acme = _export(store, tmp_path / "acme", ExportFormat.PARQUET)
        globex = _export(store, tmp_path / "globex", ExportFormat.PARQUET, tenant="globex")
        acme_ids = {
            r["id"] for f in acme["files"] for r in read_parquet(tmp_path / "acme" / f["path"])
        }
        assert acme_ids == {e.id for e in examples if e.tenant == "acme"}
        [row] = read_parquet(tmp_path / "globex" / "billing" / "examples.parquet")
        assert row["messages"][-1]["content"].startswith("Other tenant")
        assert globex["counts"]["examples"] == 1 and acme["counts"]["examples"] == 6
        chat = _export(store, tmp_path / "acme-chat")
        text = "".join((tmp_path / "acme-chat" / f["path"]).read_text() for f in chat["files"])
        assert "Other tenant" not in text and "Open Billing" in text


class TestManifest:
    def test_tokens_and_chinchilla(self, store: ExampleStore, tmp_path: Path) -> None:
        """Token counts per domain are the exported rows' tokens; parameters are tokens / 20."""
        seed(store, corpus())
        manifest = _export(store, tmp_path / "out", ExportFormat.KTO)
        for f in manifest["files"]:
            rows = jsonl(tmp_path / "out" / f["path"])
            expected = sum(sum(CHARS.count(row_texts(r))) for r in rows)
            assert manifest["tokens"]["by_domain"][f["domain"]] == expected > 0
        total = manifest["tokens"]["total"]
        assert total == sum(manifest["tokens"]["by_domain"].values())
        assert manifest["compute_optimal"]["parameters"] == total // 20
        assert manifest["tokens"]["method"] == "chars"
        assert manifest["model_versions"] == {"reward": ["reward-v1"], "router": ["router-v1"]}

    def test_snapshot_recorded(self, store: ExampleStore, tmp_path: Path) -> None:
        """Recording puts the snapshot in the store once, with its manifest, counts and path."""
        seed(store, corpus())
        query = ExampleQuery("acme", domain="billing")
        result = export_snapshot(store, query, ExportFormat.DPO, tmp_path / "out", counter=CHARS)
        assert record(store, result) is True
        assert record(store, result) is False
        [snap] = snapshots(store, "acme")
        assert snap.id == result.snapshot_id and snap.purpose == "export"
        assert snap.domain == "billing" and snap.domains == ["billing"]
        assert snap.counts == {"preference": 1} and snap.examples == 1
        assert snap.path == str((tmp_path / "out").resolve())
        assert snap.manifest == json.loads((tmp_path / "out" / MANIFEST).read_text())
        assert snapshots(store, "globex") == []

    def test_card_has_histograms_per_domain(self, store: ExampleStore, tmp_path: Path) -> None:
        """The dataset card shows reward, relevance and length histograms for each domain."""
        seed(store, corpus())
        manifest = _export(store, tmp_path / "out")
        card = (tmp_path / "out" / CARD).read_text()
        assert card.count("<svg") == 3 * len(manifest["counts"]["by_domain"])
        assert manifest["snapshot_id"] in card and "reward (n=" in card


class TestPii:
    def test_planted_email_is_redacted_and_counted(
        self, store: ExampleStore, tmp_path: Path
    ) -> None:
        """A raw e-mail that slipped into the store is redacted on export and counted."""
        examples = corpus()
        planted = make_example(
            "Send the invoice to jane.doe@example.com please",
            "Done: the invoice is on its way to <EMAIL> now.",
        )
        assert find_pii(planted.messages[0].content)  # the scanner sees the plant
        seed(store, [*examples, planted])
        for fmt in ExportFormat:
            out = tmp_path / fmt.value
            manifest = _export(store, out, fmt)
            assert manifest["pii"]["redacted"] == {"email": 1}
            for f in manifest["files"]:
                path = out / f["path"]
                if fmt is ExportFormat.PARQUET:
                    texts = [
                        t
                        for r in read_parquet(path)
                        for t in [m["content"] for m in r["messages"]] + [r["chosen"] or ""]
                    ]
                else:
                    texts = [path.read_text(encoding="utf-8")]
                assert not any(find_pii(t) for t in texts), path
                assert "jane.doe" not in "".join(texts)

    def test_report_says_what_ran_what_was_found_and_what_is_not_covered(
        self, store: ExampleStore, tmp_path: Path
    ) -> None:
        """The manifest and card name the detectors, the hits at ingest (from the validator's
        counts) and at the re-scan, and the gaps: an empty count never reads as "clean"."""
        redacted = make_example("Hi, I am <NAME_1>, mail <EMAIL>", "Thanks <NAME_1>.").model_copy(
            update={"redactions": {"name": 2, "email": 1}}
        )
        seed(store, [*corpus(), redacted])
        out = tmp_path / "report"
        pii = _export(store, out)["pii"]
        assert pii["found_at_ingest"] == {"email": 1, "name": 2}
        assert pii["found_at_export"] == {}
        assert {"name", "address", "id", "credential", "email", "phone"} <= set(pii["detectors"])
        assert any("dates of birth" in gap for gap in pii["not_covered"])
        card = (out / CARD).read_text(encoding="utf-8")
        assert "Redacted at ingest (validator): email 1, name 2" in card
        assert "none found does not mean none present" in card
