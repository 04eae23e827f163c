"""Normalisation: each source event becomes the right examples, in OpenAI chat format."""

from __future__ import annotations

from tests.conversations import as_ticket_event, dialogue

from winnow.events import SOURCE_EVENT_ADAPTER, Role
from winnow.example import ExampleKind
from winnow.stages.decode import Coordinates
from winnow.stages.normalise import (
    UNRESOLVED_FLAG,
    NormaliseOptions,
    TicketShape,
    event_to_examples,
)
from winnow.testing.fixtures import feedback_event, synthetic_event, ticket_event

C = Coordinates("topic", 0, 7)


def _examples(doc: dict) -> list:  # type: ignore[type-arg]
    return event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), C)


class TestTickets:
    def test_multi_turn_ticket_keeps_turns_and_ends_with_agent(self) -> None:
        """Greeting and trailing thanks are dropped; consecutive turns merge; roles map."""
        doc = ticket_event("q", "a")
        doc["data"]["turns"] = [
            {"speaker": "agent", "text": "Hi! How can I help?"},
            {"speaker": "customer", "text": "My parcel is late."},
            {"speaker": "customer", "text": "Order #A1."},
            {"speaker": "agent", "text": "Which address?"},
            {"speaker": "customer", "text": "12 Main St."},
            {"speaker": "agent", "text": "Rerouted, arrives Friday."},
            {"speaker": "customer", "text": "Thanks!"},
        ]
        [ex] = _examples(doc)
        assert ex.kind is ExampleKind.SFT and ex.provenance == "human_agent"
        assert [m.role for m in ex.messages] == [
            Role.USER,
            Role.ASSISTANT,
            Role.USER,
            Role.ASSISTANT,
        ]
        assert ex.messages[0].content == "My parcel is late.\n\nOrder #A1."
        assert [m.weight for m in ex.messages] == [None, 1, None, 1]
        assert ex.answer == "Which address?\n\nRerouted, arrives Friday."
        assert (ex.source.topic, ex.source.offset, ex.source.fanout) == ("topic", 7, 1)

    def test_closing_small_talk_and_identity_checks_weigh_nothing(self) -> None:
        """A real STAR fraud report: identity checks and goodbyes get weight 0, answers 1."""
        [ex] = _examples(as_ticket_event(dialogue("bank_fraud_report")))
        weights = [m.weight for m in ex.messages if m.role is Role.ASSISTANT]
        assert weights == [0, 0, 0, 0, 1, 1, 0, 0]
        assert ex.messages[-1].content == "Thank you and goodbye." and ex.weighted
        assert ex.answer.startswith("Could you provide a detailed fraud report now")
        assert "goodbye" not in ex.answer

    def test_per_turn_shape_gives_one_example_per_substantive_turn(self) -> None:
        """``per_turn``: each example ends with its substantive turn, earlier ones weigh 0."""
        doc = as_ticket_event(dialogue("bank_fraud_report"))
        options = NormaliseOptions(ticket_shape=TicketShape.PER_TURN)
        exs = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), C, options)
        assert [e.source.fanout for e in exs] == [2, 2] and len({e.id for e in exs}) == 2
        for ex in exs:
            assert ex.messages[-1].weight == 1
            assert all(m.weight == 0 for m in ex.messages[:-1] if m.role is Role.ASSISTANT)
        assert exs[1].messages[-1].content.startswith("Your report has been successfully")

    def test_producer_category_maps_to_domain(self) -> None:
        """A mapped producer category (or tag) becomes the domain; an unmapped one none."""
        options = NormaliseOptions(category_map={"billing": "invoice", "tag:lost-card": "payment"})
        adapt = SOURCE_EVENT_ADAPTER.validate_python
        d = dialogue("bank_fraud_report")
        [mapped] = event_to_examples(adapt(as_ticket_event(d, category="Billing")), C, options)
        [tagged] = event_to_examples(
            adapt(as_ticket_event(d, category="misc", tags=["x", "Lost-Card"])), C, options
        )
        [unmapped] = event_to_examples(adapt(as_ticket_event(d, category="misc")), C, options)
        assert (mapped.domain, tagged.domain, unmapped.domain) == ("invoice", "payment", None)
        assert mapped.category == "Billing"

    def test_unresolved_ticket_is_flagged(self) -> None:
        """An unresolved ticket still becomes an example, flagged for curation to judge."""
        [ex] = _examples(ticket_event("q?", "a.", status="unresolved"))
        assert UNRESOLVED_FLAG in ex.flags


class TestFeedback:
    def test_thumbs_up_is_sft_from_end_user(self) -> None:
        """A thumbs-up response becomes an SFT example vouched for by the end user."""
        [ex] = _examples(feedback_event("How do I reset?", "Use the link.", thumb="up"))
        assert ex.kind is ExampleKind.SFT and ex.provenance == "end_user"
        assert ex.messages[-1].content == "Use the link."

    def test_thumbs_down_alone_is_a_negative(self) -> None:
        """A thumbs-down without a correction is a labelled negative (KTO)."""
        [ex] = _examples(feedback_event("How do I reset?", "No idea.", thumb="down"))
        assert ex.kind is ExampleKind.NEGATIVE and ex.answer == "No idea."

    def test_correction_yields_preference_and_sft(self) -> None:
        """A correction gives a preference (correction over response) and an SFT of it."""
        pref, sft = _examples(
            feedback_event(
                "How do I reset?", "No idea.", thumb="down", correction="Click 'Forgot'."
            )
        )
        assert pref.kind is ExampleKind.PREFERENCE
        assert (pref.chosen, pref.rejected) == ("Click 'Forgot'.", "No idea.")
        assert [m.role for m in pref.messages] == [Role.USER]
        assert sft.kind is ExampleKind.SFT and sft.answer == "Click 'Forgot'."
        assert (pref.source.fanout, pref.source.index, sft.source.index) == (2, 0, 1)
        assert pref.provenance == sft.provenance == "reviewer"

    def test_preferred_alternative_yields_preference(self) -> None:
        """An A/B choice prefers the marked alternative over the shown response."""
        doc = feedback_event("Hi?", "Hello.", thumb="down")
        doc["data"]["alternatives"] = [{"content": "Hello! How can I help?", "preferred": True}]
        [ex] = _examples(doc)
        assert ex.kind is ExampleKind.PREFERENCE
        assert (ex.chosen, ex.rejected) == ("Hello! How can I help?", "Hello.")


class TestSynthetic:
    def test_synthetic_has_model_provenance(self) -> None:
        """A teacher example is SFT with provenance synthetic:<model>."""
        [ex] = _examples(synthetic_event("Explain refunds.", "Refunds take 5 days.", model="t-70b"))
        assert ex.provenance == "synthetic:t-70b" and ex.kind is ExampleKind.SFT


class TestIds:
    def test_same_content_same_id_across_events_and_tenants_differ(self) -> None:
        """The id hashes content and tenant, not the event: copies collide, tenants do not."""
        a = _examples(ticket_event("q?", "a."))[0]
        b = _examples(ticket_event("q?", "a."))[0]
        c = _examples(ticket_event("q?", "a.", tenant="globex"))[0]
        d = _examples(ticket_event("q?", "b."))[0]
        assert a.source.event_id != b.source.event_id
        assert a.id == b.id != c.id
        assert a.id != d.id


class TestConversationDedup:
    def test_per_turn_siblings_differ_and_small_talk_does_not_count(self) -> None:
        """Dedup text is the judged turns: siblings differ; greetings and names do not count."""
        from winnow.dedup.index import dedup_text

        d = dialogue("bank_fraud_report")
        options = NormaliseOptions(ticket_shape=TicketShape.PER_TURN)
        first, second = event_to_examples(
            SOURCE_EVENT_ADAPTER.validate_python(as_ticket_event(d)), C, options
        )
        assert first.messages[-1].content not in dedup_text(second)
        assert second.messages[-1].content not in dedup_text(first)
        turns = [dict(t) for t in d["turns"]]
        turns[2]["text"] = "Yes it is Maria Lopez."  # another customer's name
        turns[-1]["text"] = "Have a lovely evening, bye!"
        [a] = _examples(as_ticket_event(d))
        [b] = _examples(as_ticket_event({**d, "turns": turns}))
        assert a.id != b.id and dedup_text(a) == dedup_text(b)
