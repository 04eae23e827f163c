"""Settings of the retraining store (snapshot location, splits, decontamination, conflicts).

A base class of :class:`winnow.settings.Settings` (which adds the ``WINNOW_`` prefix), kept apart
so each module stays under the size limit; read them as ``Settings().snapshot_url`` and so on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class SnapshotStoreSettings(BaseSettings):
    """Where snapshots go, how they are split and decontaminated, how feedback conflicts resolve."""

    snapshot_url: str | None = Field(
        None,
        description="fsspec URL of retrain snapshots (`s3://bucket/prefix`, `gs://`, `az://`, "
        "`file://`); unset uses `snapshot_dir`. Credentials: AWS_*, IRSA, workload identity.",
    )
    snapshot_storage_options: dict[str, Any] = Field(
        default_factory=dict, description="Non-secret fsspec options (JSON), e.g. endpoint_url."
    )
    snapshot_license: str = Field("other", description="Licence id in each snapshot's README.md.")
    split_fractions: tuple[float, float, float] = Field(
        (0.8, 0.1, 0.1), description="Train, validation, test shares of conversations (JSON)."
    )
    split_near_threshold: float = Field(
        0.75, gt=0, le=1, description="Prompt Jaccard similarity that puts two in one split."
    )
    eval_set_path: Path | None = Field(
        None, description="Evaluation prompts retrain snapshots and exports decontaminate against."
    )
    decontam_ngram: int = Field(5, ge=1, description="Word n-grams compared with an eval set.")
    decontam_threshold: float = Field(
        0.5, gt=0, le=1, description="Shared n-gram share (of the shorter prompt) that removes."
    )
    feedback_conflict_policy: Literal["latest", "reviewer", "majority"] = Field(
        "latest",
        description="Decides contradicting feedback on one (prompt, response) before export: the "
        "latest vote, a reviewer's first, or the majority of distinct events.",
    )
    feedback_conflict_min_count: int = Field(
        2, ge=1, description="Votes a `majority` winner needs; fewer leave the pair out."
    )
