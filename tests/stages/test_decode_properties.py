"""Properties of `decode_event`: no input crashes it, and every refusal carries a reason.

Regressions it pins (found by these properties): a list or object as `type` raised TypeError
(unhashable), and an integer of more than 4,300 digits or deep nesting raised ValueError or
RecursionError from `json.loads`; each crashed the validator instead of dead-lettering.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from winnow.events import EVENT_TYPES, EXTENSION_NAME, DeadLetter
from winnow.reasons import DeadLetterReason
from winnow.stages.decode import Coordinates, decode_event
from winnow.testing.fixtures import feedback_event, synthetic_event, ticket_event

MAX = 262_144
COORDS = Coordinates("winnow.sources.tickets", 0, 7)
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
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
        elif doc.get("type") not in EVENT_TYPES:
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
    @given(st.sampled_from(SAMPLES), st.text(min_size=1, max_size=30))
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
