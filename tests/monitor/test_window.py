"""WindowStats: counts, rates by reason, histograms, PII, last-seen per source."""

from __future__ import annotations

import json

from tests.monitor.helpers import T0, example_doc, window

from winnow.monitor.window import LENGTH_EDGES, WindowStats, bin_index, flatten


class TestWindowStats:
    def test_counts_and_rates(self) -> None:
        """Curated, rejected and dead-lettered records are counted with their reasons."""
        s = window(good=6, rejected=3, dlq=1)
        assert (s.curated, s.rejected, s.dlq, s.events) == (6, 3, 1, 10)
        assert s.rate("rejected") == 0.3 and s.rate("dlq") == 0.1
        assert s.reject_reasons == {"empty_answer": 3}
        assert s.dlq_reasons == {"schema_violation": 1}
        assert s.reject_reason_rate("empty_answer") == 3 / 9
        assert s.accept_ratio("acme", "billing") == 6 / 9

    def test_groups_by_source_tenant_domain(self) -> None:
        """Examples group under their source topic's name, dead letters under theirs."""
        s = window(good=2, dlq=1)
        assert set(s.groups) == {("tickets", "acme", "billing"), ("feedback", "acme", "none")}
        assert set(s.last_seen) == {"tickets", "feedback"}

    def test_histograms_and_pii(self) -> None:
        """Scores and lengths land in fixed bins; PII hits are summed by type."""
        s = window(good=4, pii=2, reward=0.85)
        assert s.score_hist["reward"]["*"][8] == 6
        assert s.score_hist["reward"]["billing"][8] == 6
        assert sum(s.length_hist) == 6
        assert s.pii == {"email": 4, "phone": 2} and s.examples_with_pii == 2
        assert s.languages == {"en": 6}

    def test_unreadable_record_is_counted(self) -> None:
        """Bytes that are not a JSON object count under the "unreadable" group."""
        stats = WindowStats(T0)
        stats.add("curated", b"\xff not json")
        summary = stats.close()
        assert summary.groups[("unreadable", "unreadable", "none")].curated == 1

    def test_flatten_keeps_renamed_field_visible(self) -> None:
        """A renamed field becomes a null column plus an extra one, for the suites to catch."""
        doc = example_doc(1)
        doc["tenant_id"] = doc.pop("tenant")
        row = flatten(doc, "curated")
        assert row["tenant"] is None and row["tenant_id"] == "acme"
        assert row["score_reward"] == 0.8 and row["answer_chars"] > 0

    def test_bin_index_edges(self) -> None:
        """Values below, inside and above the edges fall into the first, right and last bins."""
        assert bin_index(-5, LENGTH_EDGES) == 0
        assert bin_index(25, LENGTH_EDGES) == 2
        assert bin_index(10**9, LENGTH_EDGES) == len(LENGTH_EDGES) - 2

    def test_as_dict_is_json(self) -> None:
        """The summary view serialises to JSON."""
        assert json.loads(json.dumps(window(good=1).as_dict()))["curated"] == 1


def test_router_agreement_is_a_monitored_score() -> None:
    """``router_agrees`` (producer category vs router) gets a histogram, so score drift sees it."""
    from tests.conversations import as_ticket_event, dialogue

    from winnow.events import SOURCE_EVENT_ADAPTER
    from winnow.monitor.window import WindowStats
    from winnow.stages.decode import Coordinates
    from winnow.stages.normalise import NormaliseOptions, event_to_examples

    options = NormaliseOptions(category_map={"fraud": "payment"})
    doc = as_ticket_event(dialogue("bank_fraud_report"), category="Fraud")
    [ex] = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), Coordinates(), options)
    stats = WindowStats()
    for agrees in (1.0, 1.0, 0.0):
        scored = ex.model_copy(update={"scores": {"router_agrees": agrees}})
        stats.add_example(scored.model_dump(mode="json"), "curated")
    hist = stats.close().score_hist["router_agrees"]
    assert hist["*"] == [1, 2] and hist["payment"] == [1, 2]
