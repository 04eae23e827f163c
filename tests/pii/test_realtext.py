"""Real-text measurement: converters from MultiDoGO, STAR and SGD, scoring, and the floors the
redactor must keep on the vendored sample (and, when present, on the full shared corpora)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from winnow.agents.config import validate_config
from winnow.cli.main import app
from winnow.pii.conversation import find_pii_in_turns
from winnow.pii.realtext import (
    _addressed_names,
    conversation_part,
    convert_multidogo,
    evaluate_conversations,
    load_conversations,
    parse_conversation,
)
from winnow.pii.sgd import convert_sgd
from winnow.pii.star import convert_star
from winnow.settings import get_settings
from winnow.stages.decode import Coordinates
from winnow.testing.fixtures import envelope, shared_data_dir

FIXTURES = Path(__file__).parent / "fixtures"


def test_multidogo_labels_become_spans(tmp_path: Path) -> None:
    """Consecutive tokens of one slot are one value; other slots are not planted; a turn whose
    labels do not line up is ignored whole; a greeting to the agent's name is ignored."""
    folder = tmp_path / "finance"
    folder.mkdir()
    rows = [
        ("c1", "0", "my name is john smith and ssn 4587", "O O O name name O O ssn"),
        ("c1", "2", "i want 2 pizza", "O O quantity food_item"),
        ("c1", "4", "hi spencer", "O O"),
        ("c1", "6", "broken labels here", "O O"),
    ]
    lines = ["conversationId\tturnNumber\tutteranceId\tutterance\tslot-labels\tintent"]
    lines += [f"{c}\t{t}\tu\t{u}\t{labels}\tx" for c, t, u, labels in rows]
    (folder / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    [record] = list(convert_multidogo(tmp_path))
    conv = parse_conversation(record)
    text = conv.turns[0][1]
    assert [(text[s:e], t) for _, s, e, t in conv.planted] == [
        ("john smith", "name"),
        ("4587", "ssn"),
    ]
    assert (2, 3, 10) in conv.ignored  # "spencer"
    assert (3, 0, len("broken labels here")) in conv.ignored


def _star_bank_dialogue(turns: list[tuple[str, str]], dialogue_id: int = 9) -> dict[str, Any]:
    """A STAR bank dialogue whose scenario makes the customer Jane Doe with PIN 9431."""
    return {
        "dialogue_id": dialogue_id,
        "tasks": ["bank_fraud_report"],
        "user_guide": [{"text": "You are Jane Doe. Your PIN is 9431."}],
        "turns": [{"speaker": who, "text": text} for who, text in turns],
    }


def _star_file(tmp_path: Path, dialogue: dict[str, Any]) -> Path:
    path = tmp_path / "star.jsonl"
    path.write_text(json.dumps(dialogue) + "\n", encoding="utf-8")
    return path


def test_star_scenario_values_are_planted(tmp_path: Path) -> None:
    """The scenario's identity is planted wherever the customer typed it, parts of the name
    included, without counting a part inside the full name twice."""
    dialogue = {
        "dialogue_id": 7,
        "tasks": ["bank_fraud_report"],
        "user_guide": [
            {"text": "You are Jane Doe. Your PIN is 9431, but you forgot your account number."}
        ],
        "turns": [
            {"speaker": "agent", "text": "Could I get your full name, please?"},
            {"speaker": "customer", "text": "Jane Doe"},
            {"speaker": "customer", "text": "Jane here again, pin 9431"},
        ],
    }
    path = _star_file(tmp_path, dialogue)
    [record] = list(convert_star(path))
    conv = parse_conversation(record)
    assert [(i, t) for i, _, _, t in conv.planted] == [(1, "name"), (2, "name"), (2, "pin")]


def test_star_dates_of_birth_are_planted_when_asked(tmp_path: Path) -> None:
    """A date the customer types after the agent asks for a date of birth, or after saying
    "my date of birth is", is a ``dob`` value; other dates and years are not (``dob=False``
    gives the labels without them)."""
    dialogue = _star_bank_dialogue(
        [
            ("agent", "Could you provide your date of birth, please?"),
            ("customer", "Um, May 8, 1927."),
            ("agent", "Are you ok?"),
            ("customer", "Is this the 1930s? I paid 1500 on 2/3/2020."),
            ("customer", "Jane Doe, my date of birth is 11/06/1971."),
        ],
        dialogue_id=8,
    )
    path = _star_file(tmp_path, dialogue)
    [record] = list(convert_star(path))
    conv = parse_conversation(record)
    dobs = [conv.turns[i][1][s:e] for i, s, e, t in conv.planted if t == "dob"]
    assert dobs == ["May 8, 1927", "11/06/1971"]
    [old] = list(convert_star(path, dob=False))
    planted = old["planted"]
    assert isinstance(planted, list) and all(p["type"] != "dob" for p in planted)


def test_star_security_replies_are_ignored_not_scored(tmp_path: Path) -> None:
    """The customer's reply to the agent's security question is their security answer, made up
    or not: the name redacted there is no false positive, and no recall is claimed for it
    (``answers=False``, the scenario-only labels: it is a false positive)."""
    dialogue = _star_bank_dialogue(
        [
            ("agent", "What was your mother's maiden name?"),
            ("customer", "Stanton"),
            ("agent", "Thank you. Could I have your full name?"),
            ("customer", "Jane Doe"),
        ]
    )
    path = _star_file(tmp_path, dialogue)
    [record] = list(convert_star(path))
    assert record["ignored"] == [{"turn": 1, "start": 0, "end": 7}]
    report = evaluate_conversations([parse_conversation(record)])
    assert report.planted["name"] == report.recalled["name"] == 1  # "Jane Doe"
    assert sum(report.false_positives.values()) == 0, report.table()
    [old] = list(convert_star(path, dob=False, answers=False))
    assert "ignored" not in old
    report = evaluate_conversations([parse_conversation(old)])
    assert dict(report.fp_examples) == {("name", "Stanton"): 1}


@pytest.mark.parametrize(
    ("name", "floors"),
    [
        ("multidogo_sample.jsonl", {"all": 0.93, "phone": 1.0, "card": 1.0, "id": 0.95}),
        ("star_sample.jsonl", {"all": 0.95, "pin": 1.0, "id": 1.0}),
        ("sgd_sample.jsonl", {"name": 0.95}),
    ],
)
def test_vendored_sample_floors(name: str, floors: dict[str, float]) -> None:
    """Recall on the vendored real-text samples stays at or above what it measured when they
    were vendored; overall precision stays above 0.8 (see docs/benchmarks.md)."""
    report = evaluate_conversations(load_conversations(FIXTURES / name))
    for kind, floor in floors.items():
        planted = sum(report.planted.values()) if kind == "all" else report.planted[kind]
        recalled = sum(report.recalled.values()) if kind == "all" else report.recalled[kind]
        assert planted and recalled / planted >= floor, (kind, recalled, planted)
    hits, fps = sum(report.hits.values()), sum(report.false_positives.values())
    assert 1 - fps / hits >= 0.8, report.table()


def test_measure_command_reads_conversations() -> None:
    """`winnow pii measure --conversations` prints the per-type tables; a missing file gets one
    line naming the command that writes one."""
    runner = CliRunner()
    ok = runner.invoke(
        app, ["pii", "measure", "--conversations", str(FIXTURES / "star_sample.jsonl")]
    )
    assert ok.exit_code == 0 and "| pin |" in ok.output and "false positives" in ok.output
    missing = runner.invoke(app, ["pii", "measure", "--conversations", "nope.jsonl"])
    assert missing.exit_code != 0 and "winnowpiiconvert" in _flat(missing.output)


def test_sgd_payees_are_planted_and_business_details_ignored(tmp_path: Path) -> None:
    """SGD's payee slots become planted names in every turn that marks them; a listing's
    address and phone are ignored; amounts stay unlabelled (a hit on them is a false positive)."""

    def turn(speaker: str, text: str, slots: list[tuple[str, str]]) -> dict[str, Any]:
        spans = [
            {"slot": slot, "start": text.index(v), "exclusive_end": text.index(v) + len(v)}
            for slot, v in slots
        ]
        return {"speaker": speaker, "utterance": text, "frames": [{"slots": spans}]}

    dialogue = {
        "dialogue_id": "1_00001",
        "services": ["Banks_1"],
        "turns": [
            turn(
                "USER",
                "Send $650 to Pranav.",
                [("recipient_account_name", "Pranav"), ("amount", "$650")],
            ),
            turn(
                "SYSTEM",
                "The office is at 624 Avalon Avenue, 707-620-5076.",
                [("address", "624 Avalon Avenue"), ("phone_number", "707-620-5076")],
            ),
        ],
    }
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "dialogues_001.json").write_text(json.dumps([dialogue]))
    (record,) = convert_sgd(tmp_path)
    assert record["source"] == "sgd/Banks_1"
    assert [t["role"] for t in record["turns"]] == ["customer", "agent"]
    assert record["planted"] == [{"turn": 0, "start": 13, "end": 19, "type": "name"}]
    assert record["ignored"] == [
        {"turn": 1, "start": 17, "end": 34},
        {"turn": 1, "start": 36, "end": 48},
    ]


# Whole SGD shared portion (256 dialogues, docs/benchmarks.md, "sixth pass"); rules were judged
# on its tune part.
SGD_NAME_FLOOR = 0.97
SGD_PRECISION_FLOOR = 0.90


def test_bad_input_gets_one_line_naming_the_fix(tmp_path: Path) -> None:
    """A conversations file with a broken record, or a converter pointed at the wrong file,
    fails with one line (file and line, what is missing) and leaves no half-written output."""
    runner = CliRunner()
    bad = tmp_path / "bad.jsonl"
    good = (FIXTURES / "sgd_sample.jsonl").read_text().splitlines()[0]
    bad.write_text(good + "\n" + json.dumps({"id": "x", "turns": [{"role": "customer"}]}) + "\n")
    result = runner.invoke(app, ["pii", "measure", "--conversations", str(bad)])
    flat = _flat(result.output)
    assert result.exit_code == 2 and "bad.jsonl:2:notaconversationrecord" in flat
    assert "missingfield'text'" in flat and "Traceback" not in result.output
    schema = tmp_path / "dialogues_001.json"
    schema.write_text(json.dumps([{"dialogue_id": "1", "services": []}]))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["pii", "convert", "sgd", "--data", str(schema), "--out", str(out)])
    assert result.exit_code == 2 and "doesnotholdsgddata" in _flat(result.output)
    assert not out.exists()


def _flat(output: str) -> str:
    """A CLI error box without its frame and line breaks (rich wraps it at any width)."""
    return "".join(ch for ch in output if ch not in "│╭╮╰╯─ \n")


def _datasets() -> Path:
    return Path(os.environ.get("WINNOW_DATASETS_DIR") or shared_data_dir())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("corpus", "floors", "precision"),
    [
        (
            "multidogo",
            {
                "phone": 0.99,
                "card": 0.99,
                "ssn": 0.96,
                "id": 0.96,
                "name": 0.95,
                "address": 0.96,
                "password": 0.96,
            },
            0.90,
        ),
        (
            "star",
            {"pin": 0.99, "id": 0.99, "name": 0.99, "security_answer": 0.97, "dob": 0.95},
            0.94,
        ),
        ("schema-guided-dialogue", {"name": SGD_NAME_FLOOR}, SGD_PRECISION_FLOOR),
    ],
)
def test_full_corpus_floors(
    corpus: str, floors: dict[str, float], precision: float, tmp_path: Path
) -> None:
    """The measured recall and precision on the whole shared corpus (docs/benchmarks.md; STAR
    with its dialogue-derived labels) do not regress."""
    data = _datasets() / corpus
    if not data.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{data} is missing: CI must have the shared datasets")
        pytest.skip(f"{data} not present (set WINNOW_DATASETS_DIR)")
    if corpus == "multidogo":
        records = convert_multidogo(data)
    elif corpus == "star":
        records = convert_star(data / "star_dialogues.shared.jsonl")
    else:
        records = convert_sgd(data)
    report = evaluate_conversations([parse_conversation(r) for r in records])
    for kind, floor in floors.items():
        assert report.recalled[kind] / report.planted[kind] >= floor, report.table(0)
    hits, fps = sum(report.hits.values()), sum(report.false_positives.values())
    assert 1 - fps / hits >= precision, report.table(0)


def test_split_is_fixed_and_covers_both_parts(tmp_path: Path) -> None:
    """The tune/validation split depends on the conversation id only (about 30% validation),
    and `--part` reads one side."""
    ids = [f"conv-{n}" for n in range(400)]
    parts = [conversation_part(i) for i in ids]
    assert parts == [conversation_part(i) for i in ids]
    assert 0.2 < parts.count("validation") / len(parts) < 0.4
    path = tmp_path / "c.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": i, "turns": [{"role": "customer", "text": "hi"}]}) + "\n" for i in ids
        ),
        encoding="utf-8",
    )
    tune = load_conversations(path, "tune")
    validation = load_conversations(path, "validation")
    assert len(tune) + len(validation) == len(ids)
    assert not {c.id for c in tune} & {c.id for c in validation}


def test_agent_names_are_ignored_not_scored(tmp_path: Path) -> None:
    """MultiDoGO labels only the customer's details: the agent's name the customer greets
    ("thank you casey") is ignored in every turn of that conversation, not a false positive."""
    turns = [
        {"role": "customer", "text": "hi casey my name is jane"},
        {"role": "customer", "text": "thank you casey"},
    ]
    planted = [{"turn": 0, "start": 20, "end": 24, "type": "name"}]
    ignored = _addressed_names(turns, planted)
    assert {(p["turn"], turns[p["turn"]]["text"][p["start"] : p["end"]]) for p in ignored} == {
        (0, "casey"),
        (1, "casey"),
    }


def test_separators_between_two_hits_are_not_survivors() -> None:
    """Regression (measurement bug of 2026-12-06): a value redacted as two hits with a space
    between them (``<EMAIL> <PHONE>``) is recalled; a letter left between the hits is not."""
    text = "reach me at jane@example.com 415-555-0132 or jane@example.com x 415-555-0132"
    first = text.index("jane")
    second = text.rindex("jane")
    record: dict[str, object] = {
        "id": "c1",
        "source": "test",
        "turns": [{"role": "customer", "text": text}],
        "planted": [
            {"turn": 0, "start": first, "end": first + 29, "type": "phone"},
            {"turn": 0, "start": second, "end": len(text), "type": "email"},
        ],
    }
    report = evaluate_conversations([parse_conversation(record)])
    assert report.hits["email"] == 2
    assert report.hits["phone"] == 2
    assert report.recalled == {"phone": 1}
    assert list(report.missed_examples) == [("email", "jane@example.com x 415-555-0132")]


_PLACEHOLDER = re.compile(r"<[A-Z]+(?:_\d+)?>")
_CLOSING = "Thank you, I have updated that for you."


def _written_and_measured(conv_turns: list[tuple[str, str]], n: int) -> tuple[set[str], set[str]]:
    """The words the validator writes for a conversation (as `winnow score` does) and the
    words the measure leaves, placeholders made alike."""
    if not any(r == "agent" for r, _ in conv_turns):  # MultiDoGO has customer turns only
        conv_turns = [*conv_turns, ("agent", _CLOSING)]
    turns = [{"speaker": "agent" if r == "agent" else "customer", "text": t} for r, t in conv_turns]
    event = envelope(
        "winnow.support_ticket.v1",
        {
            "ticket_id": f"T-{n}",
            "channel": "chat",
            "created_at": "2026-11-01T11:00:00+00:00",
            "turns": turns,
            "status": "resolved",
        },
    )
    out = validate_config(get_settings())(json.dumps(event).encode(), Coordinates("t", offset=n))
    assert isinstance(out, list) and out
    written = " ".join(_PLACEHOLDER.sub("<X>", m.content) for e in out for m in e.messages)
    measured = []
    for (_, text), hits in zip(conv_turns, find_pii_in_turns(conv_turns), strict=True):
        for h in sorted(hits, key=lambda h: -h.start):
            text = text[: h.start] + "<X>" + text[h.end :]
        measured.append(text)
    return (
        set(re.findall(r"\w+", written.lower())) - {"x"},
        set(re.findall(r"\w+", " ".join(measured).lower())) - {"x"},
    )


@pytest.mark.parametrize(
    "name", ["multidogo_sample.jsonl", "star_sample.jsonl", "sgd_sample.jsonl"]
)
def test_what_the_validator_writes_is_what_is_measured(name: str) -> None:
    """`winnow pii measure` and the validator (`redact_example`, so `winnow score` and the
    stream) run one conversation-level search: the words left are the same, conversation by
    conversation, even where the normaliser joins a customer's consecutive turns."""
    for n, conv in enumerate(load_conversations(FIXTURES / name)):
        written, measured = _written_and_measured(conv.turns, n)
        assert written == measured, (conv.id, written ^ measured)


def test_a_code_after_a_bare_four_digit_turn_is_redacted_when_the_turns_are_joined() -> None:
    """ "6543" then "238" from one customer are joined in one message by the normaliser; the
    security-code rule that reads them as two turns still applies to what is written."""
    written, measured = _written_and_measured([("customer", "6543"), ("customer", "238")], 0)
    assert "238" not in written and written == measured
