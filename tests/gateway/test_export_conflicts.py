"""GET /v1/export resolves feedback conflicts like every export: no contradictory KTO rows."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.export.test_conflicts import EVENTS, RESPONSE

from winnow.dedup.index import NearDuplicateIndex
from winnow.stages.curate import curate_batch
from winnow.stages.decode import Coordinates
from winnow.stages.normalise import event_to_examples
from winnow.store.store import ExampleStore


def test_export_endpoint_holds_one_label_per_completion(
    client: TestClient, make_key: Callable[..., str], gateway_db: str
) -> None:
    """The four contradicting events of issue #18: the KTO stream labels each completion once."""
    tenant = f"c-{uuid.uuid4().hex[:8]}"
    store = ExampleStore(gateway_db)
    index = NearDuplicateIndex()
    try:
        for n, event in enumerate(EVENTS):
            own = event.model_copy(update={"tenant": tenant, "id": f"{event.id}-{tenant}"})
            examples = event_to_examples(own, Coordinates("feedback", 0, n))
            decided, sigs = curate_batch(examples, [], index, store.dedup_texts)
            store.write_decisions(decided, sigs)
    finally:
        store.close()
    response = client.get(
        "/v1/export", params={"format": "kto"}, headers={"X-API-Key": make_key(tenant, "export")}
    )
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.text.splitlines()]
    labels: dict[str, set[bool]] = defaultdict(set)
    for row in rows:
        labels[row["completion"][0]["content"]].add(row["label"])
    assert len(rows) == len(labels) == 2  # the response (bad) and the one kept correction (good)
    assert labels[RESPONSE] == {False}
    assert all(len(v) == 1 for v in labels.values())
