"""Support conversations export with per-message training weights, read as trainers read them.

- OpenAI fine-tuning: ``weight`` 0/1 on assistant messages (checked by ``check_openai_chat``).
- TRL ``SFTTrainer(assistant_only_loss=True)``: the loss mask comes from
  ``apply_chat_template(..., return_assistant_tokens_mask=True)``; a chat template that wraps
  only weight-1 assistant messages in ``{% generation %}`` turns the weights into that mask.
- Parquet: ``message_weights`` lines up with ``messages``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from tests.conversations import as_ticket_event, dialogue
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from winnow.events import SOURCE_EVENT_ADAPTER, Role
from winnow.example import Example
from winnow.export.formats import ExportFormat, FileWriter, rows_for
from winnow.export.validate import check_openai_chat
from winnow.stages.decode import Coordinates
from winnow.stages.normalise import event_to_examples

# What a user puts in their model's chat template so TRL trains on weight-1 messages only.
WEIGHTED_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> "
    "{% if m['role'] == 'assistant' and m.get('weight', 1) == 1 %}"
    "{% generation %}{{ m['content'] }}{% endgeneration %}"
    "{% else %}{{ m['content'] }}{% endif %}{{ '\\n' }}{% endfor %}"
)


def _ticket() -> Example:
    doc = as_ticket_event(dialogue("bank_fraud_report"))
    [ex] = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), Coordinates("t", 0, 0))
    return ex


def _tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    """A word-level tokenizer trained on the texts themselves: no download, exact decoding."""
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    fast.chat_template = WEIGHTED_TEMPLATE
    return fast


def test_openai_row_keeps_every_turn_with_weights() -> None:
    """The whole conversation is one line; goodbyes and identity checks have weight 0."""
    ex = _ticket()
    [row] = rows_for(ex, ExportFormat.OPENAI_CHAT)
    check_openai_chat(row)
    messages = row["messages"]
    assert len(messages) == len(ex.messages) == 16
    assert all(("weight" in m) == (m["role"] == "assistant") for m in messages)
    trained = [m["content"] for m in messages if m.get("weight") == 1]
    assert len(trained) == 2 and trained[1].startswith("Your report has been successfully")
    assert messages[-1] == {"role": "assistant", "content": "Thank you and goodbye.", "weight": 0}


def test_openai_checker_refuses_bad_weights() -> None:
    """A weight on a user message, a weight of 2, or nothing trained on fail the check."""
    ok = {"role": "assistant", "content": "a", "weight": 1}
    for bad in (
        [{"role": "user", "content": "q", "weight": 1}, ok],
        [{"role": "user", "content": "q"}, {**ok, "weight": 2}],
        [{"role": "user", "content": "q"}, {**ok, "weight": 0}],
    ):
        try:
            check_openai_chat({"messages": bad})
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_trl_assistant_mask_follows_the_weights() -> None:
    """TRL's assistant-only loss mask covers exactly the weight-1 messages' tokens."""
    [row] = rows_for(_ticket(), ExportFormat.OPENAI_CHAT)
    messages = row["messages"]
    rendered = _tokenizer(["x"]).apply_chat_template(messages, tokenize=False)
    tok = _tokenizer(str(rendered).splitlines())
    out = tok.apply_chat_template(
        messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    ids, mask = out["input_ids"], out["assistant_masks"]
    masked = [i for i, keep in zip(ids, mask, strict=True) if keep]
    want = " ".join(m["content"] for m in messages if m.get("weight") == 1)
    assert tok.decode(masked).split() == want.split()
    assert "goodbye." not in tok.decode(masked)


def test_parquet_mask_lines_up_with_messages(tmp_path: Path) -> None:
    """Parquet's ``message_weights``: 1 on trained agent turns, 0 elsewhere, one per message."""
    ex = _ticket()
    writer = FileWriter(tmp_path / "examples.parquet", ExportFormat.PARQUET)
    writer.write(rows_for(ex, ExportFormat.PARQUET)[0])
    writer.close()
    [row] = pq.read_table(tmp_path / "examples.parquet").to_pylist()
    weights = row["message_weights"]
    assert len(weights) == len(row["messages"])
    trained = [m["content"] for m, w in zip(row["messages"], weights, strict=True) if w == 1]
    assert trained == [m.content for m in ex.messages if m.role is Role.ASSISTANT and m.weight == 1]
