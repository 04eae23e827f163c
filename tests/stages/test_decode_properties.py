"""Properties of `decode_event`: no input crashes it, and every refusal carries a reason.

Regressions it pins (found by these properties): a list or object as `type` raised TypeError
(unhashable), and an integer of more than 4,300 digits or deep nesting raised ValueError or
RecursionError from `json.loads`; each crashed the validator instead of dead-lettering. A lone
UTF-16 surrogate in any string passed decoding and crashed redaction (`processing_error`, raw
PII kept in the dead letter); the text strategies now include surrogates (tests/strategies.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.strategies import has_lone_surrogate, hostile_text

from winnow.events import EVENT_TYPES, EXTENSION_NAME, DeadLetter
from winnow.reasons import DeadLetterReason
from winnow.stages.decode import Coordinates, decode_event
from winnow.stages.validate import validate_record
from winnow.testing.fixtures import feedback_event, synthetic_event, ticket_event

MAX = 262_144
COORDS = Coordinates("winnow.sources.tickets", 0, 7)
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text(max_size=30, long=False),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(hostile_text(max_size=10, long=False), children, max_size=5)
    ),
    max_leaves=30,
)
SAMPLES = [
    ticket_event("Where is my order?", "It ships tomorrow."),
    feedback_event("How do I reset it?", "Hold the button for ten seconds."),
    synthetic_event("What is 2+2?", "Four."),
]


def _check(raw: bytes) -> object:
    result = decode_event(raw, COORDS, max_bytes=MAX)
    if isinstance(result, DeadLetter):
        assert result.reason in DeadLetterReason
        assert result.error.strip()
        assert result.original == raw
        # What a dead letter echoes must serialise and store: no lone surrogate, no NUL.
        result.model_dump_json().encode("utf-8")
        for echoed in (result.error, result.event_id or "", result.tenant or ""):
            assert not has_lone_surrogate(echoed) and "\x00" not in echoed
        assert result.stage == "validator" and result.offset == 7
    else:
        assert result.type in EVENT_TYPES
    return result


class TestNeverCrashes:
    """Arbitrary input gives an event or a dead letter, never an exception."""

    @PROPS
    @given(st.binary(max_size=2048))
    @example(b"\xff\xfe")
    @example(b"1" * 5000)
    @example(b"[" * 100_000)
    def test_arbitrary_bytes(self, raw: bytes) -> None:
        """Random bytes never raise; they are refused with a reason."""
        assert isinstance(_check(raw), DeadLetter)

    @PROPS
    @given(json_values)
    def test_arbitrary_json(self, doc: Any) -> None:
        """Any JSON document never raises; anything but a valid envelope has a reason."""
        result = _check(json.dumps(doc).encode())
        assert isinstance(result, DeadLetter)
        if not isinstance(doc, dict):
            assert result.reason is DeadLetterReason.SCHEMA_VIOLATION
        elif not isinstance(doc.get("type"), str) or doc["type"] not in EVENT_TYPES:
            assert result.reason is DeadLetterReason.UNKNOWN_TYPE

    @PROPS
    @given(json_values)
    @example([])
    @example({"a": 1})
    def test_any_type_value(self, value: Any) -> None:
        """Whatever JSON value `type` holds (lists and objects included), it is refused."""
        doc = {**SAMPLES[0], "type": value}
        result = _check(json.dumps(doc).encode())
        assert isinstance(result, DeadLetter)
        assert result.reason is DeadLetterReason.UNKNOWN_TYPE
        assert result.event_id == doc["id"]


class TestInvalidAlwaysHasAReason:
    """Breaking a valid event in any one field yields a schema violation naming that field."""

    @PROPS
    @given(st.sampled_from(SAMPLES), st.data())
    def test_dropped_or_replaced_field(self, sample: dict[str, Any], data: st.DataObject) -> None:
        """A required field removed, or replaced by the wrong kind of value, is named."""
        field = data.draw(st.sampled_from(["id", "source", "time", "tenant", "data"]))
        doc = dict(sample)
        # `time` is optional in CloudEvents: only a wrong value of it is a violation.
        if field != "time" and data.draw(st.booleans()):
            del doc[field]
        else:
            doc[field] = data.draw(st.lists(st.integers(), max_size=3) | st.booleans())
        result = _check(json.dumps(doc).encode())
        assert isinstance(result, DeadLetter)
        assert result.reason is DeadLetterReason.SCHEMA_VIOLATION
        assert field in result.error

    @PROPS
    @given(st.sampled_from(SAMPLES), hostile_text(min_size=1, max_size=30, long=False))
    def test_envelope_extension_names(self, sample: dict[str, Any], name: str) -> None:
        """An extra envelope attribute is a CloudEvents extension when its name is one (a-z, 0-9,
        at most 20) and a schema violation naming it otherwise; never silently dropped."""
        if name in sample or name in ("datacontenttype", "dataschema", "subject"):
            return
        result = _check(json.dumps({**sample, name: "v"}).encode())
        if EXTENSION_NAME.match(name):
            assert not isinstance(result, DeadLetter)
            assert result.extensions[name] == "v"
        else:
            assert isinstance(result, DeadLetter)
            assert result.reason is DeadLetterReason.SCHEMA_VIOLATION

    @PROPS
    @given(st.sampled_from(SAMPLES), st.text(min_size=1, max_size=20))
    def test_unknown_data_field_refused(self, sample: dict[str, Any], name: str) -> None:
        """An extra field inside `data` (a renamed upstream field) is a schema violation."""
        if name in sample["data"]:
            return
        result = _check(json.dumps({**sample, "data": {**sample["data"], name: 1}}).encode())
        assert isinstance(result, DeadLetter) and result.reason is DeadLetterReason.SCHEMA_VIOLATION

    @PROPS
    @given(st.sampled_from(SAMPLES), st.integers(min_value=1, max_value=64))
    def test_truncated_json(self, sample: dict[str, Any], cut: int) -> None:
        """A valid event cut short is invalid JSON."""
        raw = json.dumps(sample).encode()
        result = _check(raw[: len(raw) - cut])
        assert isinstance(result, DeadLetter) and result.reason is DeadLetterReason.INVALID_JSON

    def test_samples_are_valid(self) -> None:
        """The control: the unbroken samples decode to events."""
        for sample in SAMPLES:
            assert not isinstance(_check(json.dumps(sample).encode()), DeadLetter)


def _string_paths(doc: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(doc, str):
        return [path]
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _string_paths(v, (*path, k))]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _string_paths(v, (*path, str(i)))]
    return []


def _put(doc: Any, path: tuple[str, ...], value: str) -> Any:
    if not path:
        return value
    if isinstance(doc, list):
        i = int(path[0])
        return [*doc[:i], _put(doc[i], path[1:], value), *doc[i + 1 :]]
    return {**doc, path[0]: _put(doc[path[0]], path[1:], value)}


# Every string but the two that decide dispatch (`type`, `specversion`).
FREE_TEXT = [
    (sample, path)
    for sample in SAMPLES
    for path in _string_paths(sample)
    if path not in {("type",), ("specversion",)}
]


class TestHostileText:
    """Any text in any string field: an event or a reasoned refusal, never a crash or a 500."""

    @PROPS
    @given(st.sampled_from(FREE_TEXT), hostile_text())
    @example((SAMPLES[0], ("data", "turns", "0", "text")), "card 4111 1111 1111 1111 \ud83d")
    @example((SAMPLES[0], ("id",)), "\ud800")
    def test_lone_surrogates_refused_with_the_field(
        self, target: tuple[dict[str, Any], tuple[str, ...]], text: str
    ) -> None:
        """A lone surrogate anywhere is a schema violation naming the field (default policy)."""
        sample, path = target
        raw = json.dumps(_put(sample, path, text)).encode()
        result = _check(raw)
        if len(raw) > MAX:
            assert isinstance(result, DeadLetter) and result.reason is DeadLetterReason.OVERSIZE
        elif has_lone_surrogate(text):
            assert isinstance(result, DeadLetter)
            assert result.reason is DeadLetterReason.SCHEMA_VIOLATION
            if "\x00" not in text:  # a NUL anywhere is refused first, for the same reason
                assert ".".join(path) in result.error and "surrogate" in result.error

    @PROPS
    @given(st.sampled_from(FREE_TEXT), hostile_text(long=False))
    def test_replace_policy_never_keeps_a_surrogate(
        self, target: tuple[dict[str, Any], tuple[str, ...]], text: str
    ) -> None:
        """With `replace`, the validator's output holds U+FFFD where the surrogate was."""
        sample, path = target
        raw = json.dumps(_put(sample, path, text)).encode()
        out = validate_record(raw, COORDS, max_bytes=MAX, surrogates="replace")
        if isinstance(out, DeadLetter):
            assert out.reason is not DeadLetterReason.PROCESSING_ERROR, out.error
            return
        for example_ in out:
            assert not has_lone_surrogate(example_.model_dump_json())


@pytest.mark.parametrize("surrogates", ["refuse", "replace"])
def test_validator_never_dead_letters_raw_pii_for_a_surrogate(surrogates: str) -> None:
    """The finding: a card number next to a cut emoji was kept raw as `processing_error`."""
    text = "My card is 4111 1111 1111 1111, mail bob@example.com \ud83d"
    event = ticket_event(text, "We have refunded the order to your card today.")
    out = validate_record(
        json.dumps(event).encode(),
        COORDS,
        max_bytes=MAX,
        surrogates=surrogates,  # type: ignore[arg-type]
    )
    if surrogates == "refuse":
        assert isinstance(out, DeadLetter) and out.reason is DeadLetterReason.SCHEMA_VIOLATION
        assert "data.turns.0.text" in out.error
    else:
        assert not isinstance(out, DeadLetter)
        prompt = out[0].messages[0].content
        assert "4111" not in prompt and "bob@example.com" not in prompt
        assert prompt.endswith("\ufffd")


@pytest.mark.parametrize("model", ["\n", "teacher-7b\n", "a\tb", "gpt\x7f"])
def test_a_model_name_with_control_characters_is_a_schema_violation(model: str) -> None:
    """Hypothesis found `generator_model: "\\n"` dead-lettered as `processing_error`: the name
    passed the event schema but made a provenance (`synthetic:\\n`) the Example refuses."""
    event = synthetic_event("What is 2+2?", "Four.")
    event["data"]["generator_model"] = model
    out = validate_record(json.dumps(event).encode(), COORDS, max_bytes=MAX)
    assert isinstance(out, DeadLetter) and out.reason is DeadLetterReason.SCHEMA_VIOLATION
    assert "data.generator_model" in out.error


def test_a_one_line_model_name_keeps_its_provenance() -> None:
    event = synthetic_event("What is 2+2?", "Four.")
    event["data"]["generator_model"] = "llama-3.1 70b (teacher)"
    out = validate_record(json.dumps(event).encode(), COORDS, max_bytes=MAX)
    assert not isinstance(out, DeadLetter)
    assert out[0].provenance == "synthetic:llama-3.1 70b (teacher)"
