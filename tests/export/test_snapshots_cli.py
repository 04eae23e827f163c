"""``winnow export --out URL|--eval-set|--push-to-hub`` and ``winnow snapshots list|show|prune``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import s3fs
import typer
from typer.testing import CliRunner

from winnow.export import storage
from winnow.export.cli import export
from winnow.export.exceptions import ExportError
from winnow.export.push import push_to_hub
from winnow.export.snapshots_cli import snapshots_app
from winnow.settings import get_settings
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.store.queries import snapshots

from .s3lib import load_every_config, readme_header
from .seedlib import corpus, seed


@pytest.fixture
def store(tmp_path: Path) -> ExampleStore:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    s = ExampleStore(url)
    seed(s, corpus())
    return s


@pytest.fixture
def app(
    store: ExampleStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[typer.Typer]:
    """``export`` and ``snapshots`` as main.py mounts them, on the test store."""
    monkeypatch.setenv("WINNOW_DATABASE_URL", store.url)
    monkeypatch.setenv("WINNOW_EXPORT_TOKENIZER", "chars")
    monkeypatch.setenv("WINNOW_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no cached login
    get_settings.cache_clear()
    cli = typer.Typer()
    cli.command("export")(export)
    cli.add_typer(snapshots_app, name="snapshots")
    yield cli
    get_settings.cache_clear()


def _run(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_export_to_s3_is_recorded_with_its_url(
    app: typer.Typer, store: ExampleStore, s3: str, tmp_path: Path
) -> None:
    """--out s3://...: published with its manifest, recorded by URL; a second run is refused."""
    url = f"{s3}/exports/acme-1"
    result = _run(app, "export", "--tenant", "acme", "--format", "kto", "--out", url)
    assert result.exit_code == 0, result.output
    manifest = storage.read_manifest(url)
    assert [(s.id, s.path) for s in snapshots(store, "acme")] == [(manifest["snapshot_id"], url)]
    header = readme_header(s3fs.S3FileSystem().cat_file(f"{url}/README.md").decode())
    assert sum(load_every_config(url, header).values()) == manifest["counts"]["rows"]
    again = _run(app, "export", "--tenant", "acme", "--out", url)
    assert again.exit_code == 1
    assert "already holds a snapshot: choose another destination" in again.output


def test_eval_set_flag_and_bad_file(app: typer.Typer, tmp_path: Path) -> None:
    """--eval-set removes the matching example; an unreadable file is one line, no traceback."""
    eval_file = tmp_path / "eval.txt"
    eval_file.write_text("Where is my parcel?\n", encoding="utf-8")
    out = tmp_path / "out"
    result = _run(
        app, "export", "--tenant", "acme", "--out", str(out), "--eval-set", str(eval_file)
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"]["decontamination"]["removed"] == 1
    assert "shipping" not in manifest["counts"]["by_domain"]
    missing = _run(
        app, "export", "--tenant", "acme", "--out", str(tmp_path / "o2"), "--eval-set", "nope"
    )
    assert missing.exit_code == 1 and "cannot read the evaluation set nope" in missing.output
    assert "Traceback" not in missing.output


def test_push_to_hub_needs_a_token(app: typer.Typer, tmp_path: Path) -> None:
    """Without HF_TOKEN the push is refused with the fix named (nothing is sent)."""
    result = _run(
        app, "export", "--tenant", "acme", "--out", str(tmp_path / "o"), "--push-to-hub", "me/ds"
    )
    assert result.exit_code == 1
    assert "no Hugging Face token: set HF_TOKEN" in result.output


class LocalHub:
    """A stand-in for ``HfApi``: repositories are folders; a commit copies the folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.created: list[tuple[str, dict[str, Any]]] = []

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.created.append((repo_id, kwargs))
        (self.root / repo_id).mkdir(parents=True, exist_ok=True)
        return repo_id

    def upload_folder(self, **kwargs: Any) -> str:
        assert kwargs["repo_type"] == "dataset"
        shutil.copytree(kwargs["folder_path"], self.root / kwargs["repo_id"], dirs_exist_ok=True)
        return f"local://{kwargs['repo_id']}"


def test_push_to_hub_uploads_a_loadable_dataset_repo(app: typer.Typer, tmp_path: Path) -> None:
    """What is pushed is the snapshot folder, and it loads as a dataset repository."""
    out = tmp_path / "out"
    assert _run(app, "export", "--tenant", "acme", "--out", str(out)).exit_code == 0
    hub = LocalHub(tmp_path / "hub")
    manifest = json.loads((out / "manifest.json").read_text())
    where = push_to_hub(out, "acme/support", snapshot_id=manifest["snapshot_id"], api=hub)
    assert where == "local://acme/support"
    assert hub.created == [
        ("acme/support", {"repo_type": "dataset", "private": True, "exist_ok": True})
    ]
    repo = tmp_path / "hub" / "acme" / "support"
    counts = load_every_config(str(repo), readme_header((repo / "README.md").read_text()))
    assert sum(counts.values()) == manifest["counts"]["rows"]
    with pytest.raises(ExportError, match="OWNER/NAME"):
        push_to_hub(out, "no-owner", snapshot_id="x", api=hub)


def test_snapshots_list_show_prune(app: typer.Typer, store: ExampleStore, s3: str) -> None:
    """Three snapshots of one domain on S3: list shows them, show finds one, prune keeps N."""
    root = f"{s3}/snaps"
    for n, domain in enumerate(["billing", "billing", "billing"]):
        out = f"{root}/acme/{domain}/run-{n}"
        args = ["export", "--tenant", "acme", "--domain", domain, "--out", out]
        args += ["--min-reward", f"0.{n}"]  # different content each time
        assert _run(app, *args).exit_code == 0
    s3fs.S3FileSystem().pipe(f"{root}/acme/billing/broken/data/x.parquet", b"partial")
    listed = _run(app, "snapshots", "list", "--url", root)
    assert listed.exit_code == 0, listed.output
    assert listed.output.count(" acme  billing ") == 3
    first = storage.read_manifest(f"{root}/acme/billing/run-0")["snapshot_id"]
    shown = _run(app, "snapshots", "show", first[:10], "--url", root)
    assert json.loads(shown.stdout)["snapshot_id"] == first
    unknown = _run(app, "snapshots", "show", "ffffffffffff", "--url", root)
    assert unknown.exit_code == 1 and "0 snapshots under" in unknown.output
    dry = _run(app, "snapshots", "prune", "--keep", "1", "--incomplete", "--dry-run", "--url", root)
    assert dry.output.count("would remove") == 3
    assert len(list(storage.list_snapshots(root))) == 3
    pruned = _run(app, "snapshots", "prune", "--keep", "1", "--incomplete", "--url", root)
    assert pruned.exit_code == 0, pruned.output
    assert [s.url for s in storage.list_snapshots(root)] == [f"{root}/acme/billing/run-2"]
    assert storage.incomplete(root) == []
