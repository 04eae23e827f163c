"""Checks that exported rows follow the formats trainers read; each raises ``ValueError``.

- OpenAI chat fine-tuning: ``{"messages": [...]}`` only, every message ``{"role", "content"}``
  with a role in system/user/assistant and a non-empty string content (assistant messages may
  add ``weight`` 0 or 1), at least one user message, the last message from the assistant and
  at least one assistant message trained on (weight 1 or none).
- TRL conversational preference (``DPOTrainer``): ``prompt`` a non-empty list of messages not
  ending with the assistant, ``chosen`` and ``rejected`` each one assistant message.
- TRL conversational unpaired preference (``KTOTrainer``): ``prompt`` as above, ``completion``
  one assistant message, ``label`` a bool.
"""

from __future__ import annotations

from typing import Any

ROLES = {"system", "user", "assistant"}


def _messages(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{what} must be a non-empty list of messages")
    for m in value:
        if not isinstance(m, dict) or set(m) - {"weight"} != {"role", "content"}:
            raise ValueError(f"{what}: a message must have exactly role and content: {m!r}")
        if m["role"] not in ROLES:
            raise ValueError(f"{what}: unknown role {m['role']!r}")
        if "weight" in m and (m["role"] != "assistant" or m["weight"] not in (0, 1)):
            raise ValueError(f"{what}: weight must be 0 or 1, on assistant messages only")
        if not isinstance(m["content"], str) or not m["content"]:
            raise ValueError(f"{what}: content must be a non-empty string")
    return value


def _keys(row: dict[str, Any], keys: set[str]) -> None:
    if set(row) != keys:
        raise ValueError(f"keys must be {sorted(keys)}, got {sorted(row)}")


def _prompt(value: Any) -> None:
    prompt = _messages(value, "prompt")
    if prompt[-1]["role"] == "assistant":
        raise ValueError("prompt must not end with an assistant message")
    if not any(m["role"] == "user" for m in prompt):
        raise ValueError("prompt needs a user message")


def _answer(value: Any, what: str) -> None:
    answer = _messages(value, what)
    if len(answer) != 1 or answer[0]["role"] != "assistant":
        raise ValueError(f"{what} must be exactly one assistant message")


def check_openai_chat(row: dict[str, Any]) -> None:
    """Raise unless ``row`` is a valid OpenAI chat fine-tuning line."""
    _keys(row, {"messages"})
    messages = _messages(row["messages"], "messages")
    if messages[-1]["role"] != "assistant":
        raise ValueError("the last message must be the assistant's answer")
    if not any(m["role"] == "user" for m in messages):
        raise ValueError("messages need a user message")
    if not any(m["role"] == "assistant" and m.get("weight", 1) == 1 for m in messages):
        raise ValueError("no assistant message has weight 1: nothing to train on")


def check_dpo(row: dict[str, Any]) -> None:
    """Raise unless ``row`` is a TRL conversational preference row."""
    _keys(row, {"prompt", "chosen", "rejected"})
    _prompt(row["prompt"])
    _answer(row["chosen"], "chosen")
    _answer(row["rejected"], "rejected")


def check_kto(row: dict[str, Any]) -> None:
    """Raise unless ``row`` is a TRL conversational unpaired preference row."""
    _keys(row, {"prompt", "completion", "label"})
    _prompt(row["prompt"])
    _answer(row["completion"], "completion")
    if not isinstance(row["label"], bool):
        raise ValueError("label must be a bool")
