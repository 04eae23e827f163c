"""Export formats: how one canonical ``Example`` becomes rows of a training file.

- ``openai-chat`` (JSONL): ``{"messages": [{"role", "content"}, ...]}`` ending with the assistant
  answer, as OpenAI fine-tuning and TRL's ``SFTTrainer`` read it. SFT examples as they are;
  preferences as their prompt plus the chosen answer; negatives are skipped. Support
  conversations keep every turn, with OpenAI's ``weight`` (0/1) on each assistant message.
- ``dpo`` (JSONL): TRL's *conversational preference* format, ``{"prompt": [messages...],
  "chosen": [{"role": "assistant", ...}], "rejected": [{"role": "assistant", ...}]}``, read by
  ``DPOTrainer`` (and ORPO, CPO...), which applies the chat template itself. Preferences only.
- ``kto`` (JSONL): TRL's *conversational unpaired preference* format, ``{"prompt": [messages...],
  "completion": [{"role": "assistant", ...}], "label": bool}``: SFT examples are desirable
  (``true``), negatives undesirable (``false``), and a preference gives one row of each.
- ``parquet``: one row per example of every kind with its scores, flags, provenance and source,
  for analysis or a custom trainer; ``message_weights`` is the per-message training mask.

Only these keys are written in the JSONL formats: OpenAI's validator refuses unknown ones.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from winnow.events import Role
from winnow.example import Example, ExampleKind


class ExportFormat(StrEnum):
    """A file format ``winnow export`` writes."""

    OPENAI_CHAT = "openai-chat"
    DPO = "dpo"
    KTO = "kto"
    PARQUET = "parquet"

    @property
    def file_name(self) -> str:
        """Name of the file written in each domain's folder."""
        return "examples.parquet" if self is ExportFormat.PARQUET else f"{self.value}.jsonl"


Row = dict[str, Any]


def _messages(example: Example) -> list[Row]:
    return [{"role": m.role.value, "content": m.content} for m in example.prompt_messages]


def weighted_messages(example: Example) -> list[Row]:
    """Every message of a weighted conversation; assistant messages carry ``weight`` 0 or 1.

    OpenAI fine-tuning trains only on assistant messages with weight 1; greetings, identity
    checks and goodbyes (weight 0) stay as context.
    """
    rows: list[Row] = []
    for m in example.messages:
        row: Row = {"role": m.role.value, "content": m.content}
        if m.role is Role.ASSISTANT:
            row["weight"] = 1 if m.weight is None else m.weight
        rows.append(row)
    return rows


def _assistant(text: str) -> list[Row]:
    return [{"role": Role.ASSISTANT.value, "content": text}]


def _has_answer(example: Example) -> bool:
    return bool(example.messages) and example.messages[-1].role is Role.ASSISTANT


def rows_for(example: Example, fmt: ExportFormat) -> list[Row]:
    """The rows ``example`` gives in ``fmt``; an empty list when the format cannot hold it."""
    kind = example.kind
    preference = kind is ExampleKind.PREFERENCE and example.chosen is not None
    if fmt is ExportFormat.PARQUET:
        return [parquet_row(example)]
    if fmt is ExportFormat.OPENAI_CHAT:
        if kind is ExampleKind.SFT and example.weighted and _has_answer(example):
            return [{"messages": weighted_messages(example)}]
        if kind is ExampleKind.SFT and _has_answer(example):
            return [{"messages": [*_messages(example), *_assistant(example.answer)]}]
        if preference:
            return [{"messages": [*_messages(example), *_assistant(example.answer)]}]
        return []
    if fmt is ExportFormat.DPO:
        if preference and example.rejected is not None and example.messages:
            return [
                {
                    "prompt": _messages(example),
                    "chosen": _assistant(example.chosen or ""),
                    "rejected": _assistant(example.rejected),
                }
            ]
        return []
    # KTO
    prompt = _messages(example)
    if not prompt:
        return []
    if kind in (ExampleKind.SFT, ExampleKind.NEGATIVE) and _has_answer(example):
        label = kind is ExampleKind.SFT
        return [{"prompt": prompt, "completion": _assistant(example.answer), "label": label}]
    if preference:
        rows = [{"prompt": prompt, "completion": _assistant(example.chosen or ""), "label": True}]
        if example.rejected is not None:
            rows.append(
                {"prompt": prompt, "completion": _assistant(example.rejected), "label": False}
            )
        return rows
    return []


def parquet_row(example: Example) -> Row:
    """An example's columns in the Parquet export."""
    return {
        "id": example.id,
        "kind": example.kind.value,
        "domain": example.domain,
        "messages": [{"role": m.role.value, "content": m.content} for m in example.messages],
        # Per-message training weight (1 train, 0 context only): the mask a custom trainer
        # applies; user and system messages are 0, unweighted assistant messages 1.
        "message_weights": [
            (1 if m.weight is None else m.weight) if m.role is Role.ASSISTANT else 0
            for m in example.messages
        ],
        "chosen": example.chosen,
        "rejected": example.rejected,
        "provenance": example.provenance,
        "language": example.language,
        "category": example.category,
        "csat": example.csat,
        "scores": sorted(example.scores.items()),
        "flags": list(example.flags),
        "model_versions": sorted(example.model_versions.items()),
        "source_event_id": example.source.event_id,
        "source_event_type": example.source.event_type,
        "event_time": example.event_time,
    }


def dumps_line(row: Row) -> str:
    """One JSONL line, canonical: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


class FileWriter:
    """Writes one domain's rows to one file, in the order given."""

    def __init__(self, path: Path, fmt: ExportFormat) -> None:
        self.path = path
        self.fmt = fmt
        self.rows = 0
        self._buffer: list[Row] = []
        self._handle: IO[str] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt is not ExportFormat.PARQUET:
            self._handle = path.open("w", encoding="utf-8", newline="\n")

    def write(self, row: Row) -> None:
        """Append one row."""
        self.rows += 1
        if self._handle is not None:
            self._handle.write(dumps_line(row))
        else:
            self._buffer.append(row)

    def close(self) -> None:
        """Flush and close the file (Parquet is written here, in one row group per 64k rows)."""
        if self._handle is not None:
            self._handle.close()
            return
        from winnow.export.parquet import write_parquet  # pyarrow is imported on demand

        write_parquet(self.path, self._buffer)
        self._buffer = []
