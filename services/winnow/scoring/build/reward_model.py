"""The cross-encoder reward model in PyTorch: MiniLM (BertModel) + mean pooling + a linear head.

Build time only (torch, transformers, safetensors). Pairs are encoded with the run-time
:class:`~winnow.scoring.tokenizer.PairTokenizer`, so training and scoring cut contexts alike.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load, load_file
from torch import nn
from transformers import BertConfig, BertModel

from winnow.scoring.tokenizer import PairTokenizer

CONTEXT_MIN_FRAC = 0.4
Batch = dict[str, torch.Tensor]


class RewardModel(nn.Module):
    """Scalar score of a (context, response) pair."""

    def __init__(self, config: BertConfig, pooling: str = "mean", dropout: float = 0.1) -> None:
        super().__init__()
        self.pooling = pooling
        self.bert = BertModel(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(config.hidden_size, 1)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        """One unnormalised score per row."""
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        out: torch.Tensor = self.head(self.dropout(pooled).float()).squeeze(-1)
        return out


class PairBatcher:
    """Tensors for (context, response) pairs; token ids cached per distinct text."""

    def __init__(self, tokenizer_path: Path, max_length: int) -> None:
        self.tokenizer = PairTokenizer(tokenizer_path, max_length, CONTEXT_MIN_FRAC)

    def batch(self, contexts: list[str], responses: list[str], device: torch.device) -> Batch:
        """``input_ids``, ``attention_mask``, ``token_type_ids`` on ``device``."""
        ids, mask, types = self.tokenizer(contexts, responses)
        return {
            "input_ids": torch.from_numpy(ids).to(device),
            "attention_mask": torch.from_numpy(mask).to(device),
            "token_type_ids": torch.from_numpy(types).to(device),
        }


def bert_config(cfg: dict[str, Any], attn: str) -> BertConfig:
    """A BertConfig from a saved config dict; ``attn`` eager for export, sdpa on the GPU."""
    kept = {
        k: v
        for k, v in cfg.items()
        if not k.startswith("_") and k not in ("architectures", "transformers_version")
    }
    config = BertConfig(**kept)
    config._attn_implementation = attn
    return config


def load_base(base: Path, pooling: str, attn: str) -> tuple[RewardModel, dict[str, Any]]:
    """The pre-trained MiniLM (``model.safetensors`` + ``config.json``) under a fresh head."""
    cfg = json.loads((base / "config.json").read_text(encoding="utf-8"))
    model = RewardModel(bert_config(cfg, attn), pooling)
    weights = {
        k: v.float()
        for k, v in load_file(str(base / "model.safetensors")).items()
        # position_ids is an int buffer transformers rebuilds itself; the pooler is unused.
        if v.is_floating_point() and not k.startswith("pooler.")
    }
    missing, unexpected = model.bert.load_state_dict(weights, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise ValueError(f"base weights do not fit: missing={missing} unexpected={unexpected}")
    return model, cfg


def join_parts(run: Path, meta: dict[str, Any]) -> bytes:
    """Concatenate ``reward.part*`` and check the sha256 recorded in ``config.json``."""
    blob = b"".join((run / part).read_bytes() for part in meta["parts"])
    if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
        raise ValueError(f"joined weights in {run} do not match the sha256 in config.json")
    return blob


def load_finetuned(run: Path, attn: str = "eager") -> tuple[RewardModel, dict[str, Any]]:
    """A trained run (``reward.part*`` + ``config.json``), in fp32, in eval mode."""
    meta: dict[str, Any] = json.loads((run / "config.json").read_text(encoding="utf-8"))
    weights = {k: v.float() for k, v in load(join_parts(run, meta)).items()}
    model = RewardModel(bert_config(meta["bert_config"], attn), meta["pooling"])
    model.load_state_dict(weights, strict=True)
    return model.eval(), meta


def pair_order(pairs: list[dict[str, str]]) -> list[int]:
    """Pair indices by total text length (less padding per batch)."""
    return sorted(
        range(len(pairs)),
        key=lambda i: (
            len(pairs[i]["context"]) + len(pairs[i]["chosen"]) + len(pairs[i]["rejected"])
        ),
    )


@torch.no_grad()
def score_pairs(
    model: RewardModel,
    batcher: PairBatcher,
    pairs: list[dict[str, str]],
    device: torch.device,
    batch_size: int,
) -> list[tuple[float, float]]:
    """``(score(chosen), score(rejected))`` per pair; bf16 autocast on CUDA."""
    model.eval()
    order = pair_order(pairs)
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(pairs)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        contexts = [pairs[j]["context"] for j in rows]
        responses = [pairs[j]["chosen"] for j in rows] + [pairs[j]["rejected"] for j in rows]
        batch = batcher.batch(contexts + contexts, responses, device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            scores = model(**batch).float().cpu().tolist()
        for k, j in enumerate(rows):
            out[j] = (scores[k], scores[k + len(rows)])
    return out
