"""Export formats: rows per kind, and the checks that they match what trainers read."""

from __future__ import annotations

import pytest

from winnow.example import ExampleKind
from winnow.export.formats import ExportFormat, rows_for
from winnow.export.validate import check_dpo, check_kto, check_openai_chat

from .seedlib import make_example

SFT = make_example(
    "How do I reset my password?", "Use the 'Forgot password' link.", system="Be kind."
)
PREF = make_example(
    "Refund?",
    "Refunds are prorated; ask on the invoice page.",
    kind=ExampleKind.PREFERENCE,
    rejected="No.",
)
NEG = make_example("Cancel my plan", "Figure it out yourself.", kind=ExampleKind.NEGATIVE)


class TestOpenAIChat:
    def test_sft_keeps_system_and_ends_with_answer(self) -> None:
        """An SFT example becomes one valid messages line ending with the assistant answer."""
        [row] = rows_for(SFT, ExportFormat.OPENAI_CHAT)
        check_openai_chat(row)
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
        assert row["messages"][-1]["content"] == "Use the 'Forgot password' link."

    def test_preference_gives_chosen_and_negative_nothing(self) -> None:
        """A preference exports its chosen answer; a negative has no place in SFT data."""
        [row] = rows_for(PREF, ExportFormat.OPENAI_CHAT)
        check_openai_chat(row)
        assert row["messages"][-1]["content"] == PREF.chosen
        assert rows_for(NEG, ExportFormat.OPENAI_CHAT) == []

    @pytest.mark.parametrize(
        "row",
        [
            {"messages": [{"role": "user", "content": "hi"}]},
            {
                "messages": [
                    {"role": "robot", "content": "hi"},
                    {"role": "assistant", "content": "x"},
                ]
            },
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"},
                ],
                "id": "x",
            },
        ],
    )
    def test_checker_refuses_bad_lines(self, row: dict) -> None:  # type: ignore[type-arg]
        """No final answer, an unknown role or an extra key fails the OpenAI check."""
        with pytest.raises(ValueError, match=r"assistant|role|keys"):
            check_openai_chat(row)


class TestDpo:
    def test_preference_is_trl_conversational(self) -> None:
        """A preference becomes prompt messages plus one-message chosen and rejected lists."""
        [row] = rows_for(PREF, ExportFormat.DPO)
        check_dpo(row)
        assert row["prompt"] == [{"role": "user", "content": "Refund?"}]
        assert row["chosen"] == [{"role": "assistant", "content": PREF.chosen}]
        assert row["rejected"] == [{"role": "assistant", "content": "No."}]

    def test_only_preferences(self) -> None:
        """SFT examples and negatives have no pair, so DPO skips them."""
        assert rows_for(SFT, ExportFormat.DPO) == rows_for(NEG, ExportFormat.DPO) == []


class TestKto:
    def test_labels_by_kind(self) -> None:
        """SFT is desirable, a negative undesirable, a preference gives one row of each."""
        rows = [*rows_for(SFT, ExportFormat.KTO), *rows_for(NEG, ExportFormat.KTO)]
        pref = rows_for(PREF, ExportFormat.KTO)
        for row in rows + pref:
            check_kto(row)
        assert [r["label"] for r in rows] == [True, False]
        assert [(r["completion"][0]["content"], r["label"]) for r in pref] == [
            (PREF.chosen, True),
            ("No.", False),
        ]

    def test_checker_refuses_string_label(self) -> None:
        """A label that is not a bool fails the KTO check."""
        row = rows_for(SFT, ExportFormat.KTO)[0] | {"label": "true"}
        with pytest.raises(ValueError, match="label"):
            check_kto(row)
