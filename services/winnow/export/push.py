"""``winnow export --push-to-hub REPO``: upload a snapshot folder as a Hugging Face dataset repo.

The folder already is a dataset repository (README.md with its YAML header, parquet shards), so
this is one ``create_repo`` and one ``upload_folder`` commit. The token is never a Winnow setting:
``huggingface_hub`` reads ``HF_TOKEN`` (or its cached login); without one the push is refused
before anything is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from winnow.export.exceptions import ExportError


class HubApi(Protocol):
    """The two calls of ``huggingface_hub.HfApi`` a push makes (a stand-in in tests)."""

    def create_repo(self, repo_id: str, **kwargs: Any) -> Any:
        """Create the dataset repository (``exist_ok``)."""
        ...

    def upload_folder(self, **kwargs: Any) -> Any:
        """Upload a folder in one commit."""
        ...


def push_to_hub(
    folder: Path,
    repo_id: str,
    *,
    snapshot_id: str,
    private: bool = True,
    api: HubApi | None = None,
    token: str | None = None,
) -> str:
    """Upload ``folder`` to the dataset repository ``repo_id``; returns the commit's URL."""
    if repo_id.count("/") != 1:
        raise ExportError(f"--push-to-hub takes OWNER/NAME, got {repo_id!r}")
    client: Any = api
    if client is None:
        from huggingface_hub import HfApi, get_token

        token = token or get_token()
        if not token:
            raise ExportError("no Hugging Face token: set HF_TOKEN (or `hf auth login`) to push")
        client = HfApi(token=token)
    client.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    info = client.upload_folder(
        repo_id=repo_id,
        repo_type="dataset",
        folder_path=str(folder),
        commit_message=f"Winnow snapshot {snapshot_id}",
    )
    return str(getattr(info, "commit_url", info))
