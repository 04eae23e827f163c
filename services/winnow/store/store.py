"""``ExampleStore``: idempotent writes of curation outcomes and dead letters.

Writes are keyed so that at-least-once delivery is harmless: an accepted example's key is its
content hash, a rejection's key is (tenant, event id, index), a dead letter's key is its Kafka
coordinates. A replayed batch therefore changes nothing, and a content duplicate from another
event is turned into a ``duplicate`` rejection, decided by the database, so it holds across
curator replicas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import (
    Engine,
    String,
    Table,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from winnow.dedup.index import DedupRow
from winnow.events import DeadLetter
from winnow.example import Decision, Example
from winnow.reasons import DeadLetterReason, DropReason
from winnow.store.copy import copy_insert, copy_rows
from winnow.store.dedup_texts import read_dedup_texts
from winnow.store.rows import example_row, rejection_id, rejection_row
from winnow.store.tables import DeadLetterRow, ExampleRow, PiiSubjectRow, RejectionRow

# Core tables: typed columns for queries (SQLModel's class attributes look like plain values).
EXAMPLES: Table = ExampleRow.__table__  # type: ignore[attr-defined]
REJECTIONS: Table = RejectionRow.__table__  # type: ignore[attr-defined]
DEAD_LETTERS: Table = DeadLetterRow.__table__  # type: ignore[attr-defined]
PII_SUBJECTS: Table = PiiSubjectRow.__table__  # type: ignore[attr-defined]

EXAMPLE_STAGES = ("scorer", "curator")
"""Stages that dead-letter single examples (keyed by event and position), not whole records."""
COPY_MIN_ROWS = 8
"""From this many rows PostgreSQL appends go through COPY (below it, three extra statements
cost more than they save)."""

# Appends on PostgreSQL: COPY straight into the table (rows looked up and found new), or through
# a temp table and INSERT ... SELECT ... ON CONFLICT after a race (store/copy.py).
# Small batches and SQLite pass their rows as a list (executemany, no RETURNING): SQLAlchemy
# compiles the statement once and psycopg sends it prepared, in pipeline mode. Rows baked into
# `.values(rows)` were compiled and parsed afresh per batch, at 5x the database's own time.


@dataclass(frozen=True)
class WriteOutcome:
    """What a write really did: accepted examples may come back as duplicate rejections."""

    accepted: list[Example]
    rejected: list[Example]


@dataclass
class EventTally:
    """Source events by outcome, as the store sees them."""

    curated: int = 0
    rejected: int = 0
    dlq: int = 0
    """Events that became dead letters (``dlq_by_reason`` counts the letters themselves)."""
    pending: int = 0
    examples_curated: int = 0
    examples_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    dlq_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def accounted(self) -> int:
        """Events whose every example has an outcome, plus dead letters."""
        return self.curated + self.rejected + self.dlq


def make_engine(
    url: str, *, connect_timeout_s: float | None = None, statement_timeout_s: float | None = None
) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so services and readers can share it.

    On PostgreSQL ``connect_timeout_s`` bounds connecting (libpq rounds to whole seconds, at
    least 2) and ``statement_timeout_s`` every statement of the engine's sessions (0: none).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if connect_timeout_s is not None:
        connect_args["connect_timeout"] = max(2, round(connect_timeout_s))
    if statement_timeout_s is not None:
        connect_args["options"] = f"-c statement_timeout={round(statement_timeout_s * 1000)}"
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args
    )


class ExampleStore:
    """The store behind the curator; synchronous (agents call it through a worker thread)."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float | None = None,
        statement_timeout_s: float | None = None,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, connect_timeout_s=connect_timeout_s, statement_timeout_s=statement_timeout_s
        )
        self._dialect = self.engine.dialect.name

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(select(literal(1)))

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        return dialect.insert(table)

    def _in(self, column: Any, values: Iterable[str]) -> Any:
        """``column IN values``; on PostgreSQL ``= ANY(array)``: one bind parameter, so the
        statement is the same whatever the batch and psycopg prepares it once."""
        if self._dialect == "postgresql":
            return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(String)))
        return column.in_(values)

    def write_decisions(
        self, examples: Sequence[Example], dedup_sigs: Mapping[str, bytes] | None = None
    ) -> WriteOutcome:
        """Store decided examples in one transaction; return the outcome of each.

        ``dedup_sigs`` maps an accepted example's id to its dedup keys (``NearDuplicateIndex``).
        On PostgreSQL new rows are COPYed straight into their tables after a look-up of the keys
        already stored; if another writer (a second curator replica) stores one of those keys
        in between, the COPY fails on the key and the batch is redone with ``ON CONFLICT DO
        NOTHING``, which waits for that writer and skips its rows.
        """
        sigs = dedup_sigs or {}
        if self._dialect != "postgresql":
            return self._write(examples, sigs, direct=False)
        try:
            return self._write(examples, sigs, direct=True)
        except (IntegrityError, UniqueViolation):
            return self._write(examples, sigs, direct=False)

    def _write(
        self, examples: Sequence[Example], sigs: Mapping[str, bytes], *, direct: bool
    ) -> WriteOutcome:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            # A redelivered example keeps the outcome its event already has: a re-scored copy's
            # scores can differ (they depend on the batch), and a second decision would give one
            # event two outcomes. Copies within this batch take the first copy's decision.
            examples, stored_rejections, owners = self._sticky_decisions(conn, examples)
            accepted = [e for e in examples if e.decision and e.decision.status == "accepted"]
            rejected = [e for e in examples if not (e.decision and e.decision.status == "accepted")]
            # The first copy of a content hash in the batch competes for the row; later copies
            # are duplicates of whichever event owns it once the insert is done.
            first: dict[str, Example] = {}
            for ex in accepted:
                first.setdefault(ex.id, ex)
            new = [ex for key, ex in first.items() if key not in owners]
            self._insert_examples(conn, new, now, sigs, direct=direct)
            if direct:
                owners.update((e.id, (e.source.event_id, e.source.index)) for e in new)
            else:  # ON CONFLICT may have skipped rows another writer stored meanwhile
                owners.update(self._owners(conn, {e.id for e in new}))
            kept: list[Example] = []
            for ex in accepted:
                if owners.get(ex.id) == (ex.source.event_id, ex.source.index):
                    kept.append(ex)  # new, or a redelivery of the event that owns the row
                else:
                    rejected.append(_as_duplicate(ex))
            self._insert_rejections(conn, rejected, stored_rejections, now, direct=direct)
            subjects = [("example", e.id, e) for e in kept]
            subjects += [("rejection", rejection_id(e), e) for e in rejected]
            self._insert_subjects(
                conn, [(s, k, ref, e.tenant) for k, ref, e in subjects for s in e.subjects], now
            )
        return WriteOutcome(accepted=kept, rejected=rejected)

    def _insert_subjects(
        self, conn: Connection, rows: list[tuple[str, str, str, str | None]], now: datetime
    ) -> None:
        """Index the subject hashes of stored rows (what `winnow erase` looks them up by)."""
        if rows:
            values = [
                {"subject": s, "kind": k, "ref_id": r, "tenant": t, "recorded_at": now}
                for s, k, r, t in rows
            ]
            conn.execute(self._insert(PII_SUBJECTS).on_conflict_do_nothing(), values)

    def _sticky_decisions(
        self, conn: Connection, examples: Sequence[Example]
    ) -> tuple[list[Example], set[str], dict[str, tuple[str, int]]]:
        """``examples`` with the decision their (tenant, event, index) already has, if any; the
        ids of their rejections already stored; the owner (event, index) of each of their
        content hashes already stored. One round trip."""
        if not examples:
            return [], set(), {}
        events = {e.source.event_id for e in examples}
        by_id = {rejection_id(e): e for e in examples}
        stored_rows = select(
            literal("example"),
            EXAMPLES.c.id,
            EXAMPLES.c.tenant,
            EXAMPLES.c.source_event_id,
            EXAMPLES.c.source_index,
            cast(null(), REJECTIONS.c.reasons.type),
        ).where(
            or_(
                self._in(EXAMPLES.c.source_event_id, events),
                self._in(EXAMPLES.c.id, {e.id for e in examples}),
            )
        )
        rejections = select(
            literal("rejection"),
            REJECTIONS.c.id,
            REJECTIONS.c.tenant,
            REJECTIONS.c.source_event_id,
            REJECTIONS.c.source_index,
            REJECTIONS.c.reasons,
        ).where(self._in(REJECTIONS.c.id, by_id))
        stored: dict[tuple[str, str, int], Decision] = {}
        owners: dict[str, tuple[str, int]] = {}
        found: set[str] = set()
        for table, key, tenant, event_id, index, reasons in conn.execute(
            union_all(stored_rows, rejections)
        ):
            if table == "example":  # a row of one of these events, or one of these hashes
                stored[tenant, event_id, index] = Decision(status="accepted")
                owners[key] = (event_id, index)
            else:
                found.add(key)
                stored[tenant, event_id, index] = Decision(
                    status="rejected", reasons=[DropReason(r) for r in reasons]
                )
        out: list[Example] = []
        for ex in examples:
            key = (ex.tenant, ex.source.event_id, ex.source.index)
            decision = stored.get(key)
            if decision is None:
                if ex.decision is not None:
                    stored[key] = ex.decision  # later copies in this batch follow this one
                out.append(ex)
            elif decision is ex.decision:
                out.append(ex)
            else:
                out.append(ex.model_copy(update={"decision": decision}))
        return out, found, owners

    def _insert_examples(
        self,
        conn: Connection,
        examples: list[Example],
        now: datetime,
        sigs: Mapping[str, bytes],
        *,
        direct: bool,
    ) -> None:
        if examples:
            rows = [example_row(e, now, sigs.get(e.id)) for e in examples]
            self._append(conn, EXAMPLES, rows, direct=direct)

    def _owners(self, conn: Connection, ids: set[str]) -> dict[str, tuple[str, int]]:
        if not ids:
            return {}
        rows = conn.execute(
            select(EXAMPLES.c.id, EXAMPLES.c.source_event_id, EXAMPLES.c.source_index).where(
                self._in(EXAMPLES.c.id, ids)
            )
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def _insert_rejections(
        self,
        conn: Connection,
        examples: list[Example],
        stored: set[str],
        now: datetime,
        *,
        direct: bool,
    ) -> None:
        """Rejections not stored yet; the first of several copies of one (tenant, event,
        index) in the batch, as ``ON CONFLICT DO NOTHING`` would keep."""
        rows: dict[str, dict[str, Any]] = {}
        for e in examples:
            rid = rejection_id(e)
            if rid not in stored and rid not in rows:
                rows[rid] = rejection_row(e, now, rid)
        if rows:
            self._append(conn, REJECTIONS, list(rows.values()), direct=direct)

    def _append(
        self, conn: Connection, table: Table, rows: list[dict[str, Any]], *, direct: bool
    ) -> None:
        """Insert rows: ``direct`` COPY of rows known to be new; otherwise skipping keys already
        stored (COPY through a temp table on PostgreSQL, executemany below ``COPY_MIN_ROWS``
        and on SQLite)."""
        if self._dialect == "postgresql" and len(rows) >= COPY_MIN_ROWS:
            if direct:
                copy_rows(conn, table, rows)
            else:
                copy_insert(conn, table, rows)
        else:
            conn.execute(self._insert(table).on_conflict_do_nothing(), rows)

    def record_dead_letters(self, letters: Iterable[DeadLetter]) -> None:
        """Store dead letters; a redelivered one is ignored."""
        letters = list(letters)
        rows = [letter.model_dump(mode="python", exclude={"subjects"}) for letter in letters]
        if not rows:
            return
        subjects = [(s, "dlq", d.id, d.tenant) for d in letters for s in d.subjects]
        with self.engine.begin() as conn:
            conn.execute(self._insert(DEAD_LETTERS).on_conflict_do_nothing(), rows)
            self._insert_subjects(conn, subjects, datetime.now(UTC))

    def dedup_texts(self, tenant: str, id_prefixes: list[str]) -> dict[str, list[str]]:
        """Dedup texts of a tenant's stored examples whose id starts with one of the prefixes,
        by that prefix (one absent when no stored id starts with it): ``winnow.store.dedup_texts``.
        """
        if not id_prefixes:
            return {}
        with self.engine.connect() as conn:
            return read_dedup_texts(conn, EXAMPLES, tenant, id_prefixes)

    def iter_dedup_signatures(
        self, tenant: str | None = None, *, batch: int = 10_000
    ) -> Iterator[DedupRow]:
        """Every stored example's dedup keys (one tenant's, or all), to rebuild a dedup index."""
        query = select(EXAMPLES.c.tenant, EXAMPLES.c.id, EXAMPLES.c.dedup_sig).where(
            EXAMPLES.c.dedup_sig.is_not(None)
        )
        if tenant is not None:
            query = query.where(EXAMPLES.c.tenant == tenant)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(query)
            for row_tenant, row_id, sig in result:
                yield DedupRow(tenant=row_tenant, id=row_id, dedup_sig=bytes(sig))

    def tally(self, since: datetime | None = None) -> EventTally:
        """Count source events by outcome (an event with several examples counts once).

        An example a stage dead-lettered (``processing_error`` with its event id, by the scorer
        or the curator) is one of its event's outcomes: the event is curated or rejected by its
        other examples, and a dead letter only when all it left are such letters. ``dlq`` counts
        events; ``dlq_by_reason`` counts letters. ``since`` limits the count to rows written from
        that moment on (one demo run, say).
        """
        accepted_q = select(
            EXAMPLES.c.tenant,
            EXAMPLES.c.source_event_id,
            EXAMPLES.c.source_fanout.label("fanout"),
            literal(1).label("accepted"),
        )
        rejected_q = select(
            REJECTIONS.c.tenant,
            REJECTIONS.c.source_event_id,
            REJECTIONS.c.source_fanout.label("fanout"),
            literal(0).label("accepted"),
        )
        reasons_q = select(REJECTIONS.c.reasons)
        dlq_q = select(DEAD_LETTERS.c.reason, func.count()).group_by(DEAD_LETTERS.c.reason)
        lost_q = (
            select(DEAD_LETTERS.c.tenant, DEAD_LETTERS.c.event_id, func.count())
            .where(
                DEAD_LETTERS.c.stage.in_(EXAMPLE_STAGES),
                DEAD_LETTERS.c.event_id.is_not(None),
                DEAD_LETTERS.c.reason == DeadLetterReason.PROCESSING_ERROR.value,
            )
            .group_by(DEAD_LETTERS.c.tenant, DEAD_LETTERS.c.event_id)
        )
        if since is not None:
            accepted_q = accepted_q.where(EXAMPLES.c.stored_at >= since)
            rejected_q = rejected_q.where(REJECTIONS.c.rejected_at >= since)
            reasons_q = reasons_q.where(REJECTIONS.c.rejected_at >= since)
            dlq_q = dlq_q.where(DEAD_LETTERS.c.failed_at >= since)
            lost_q = lost_q.where(DEAD_LETTERS.c.failed_at >= since)
        outcomes = union_all(accepted_q, rejected_q).subquery()
        per_event = select(
            outcomes.c.tenant,
            outcomes.c.source_event_id,
            func.max(outcomes.c.fanout),
            func.count(),
            func.sum(outcomes.c.accepted),
        ).group_by(outcomes.c.tenant, outcomes.c.source_event_id)
        tally = EventTally()
        with self.engine.connect() as conn:
            lost = {(t, e): int(n) for t, e, n in conn.execute(lost_q)}
            lost_letters = sum(lost.values())
            for tenant, event_id, fanout, seen, accepted in conn.execute(per_event):
                tally.examples_curated += int(accepted)
                tally.examples_rejected += int(seen) - int(accepted)
                if seen + lost.pop((tenant, event_id), 0) < fanout:
                    tally.pending += 1
                elif accepted:
                    tally.curated += 1
                else:
                    tally.rejected += 1
            reasons: Counter[str] = Counter()
            for (row_reasons,) in conn.execute(reasons_q):
                reasons.update(row_reasons)
            tally.rejected_by_reason = dict(reasons)
            tally.dlq_by_reason = {reason: int(n) for reason, n in conn.execute(dlq_q)}
            # Whole records dead-lettered, plus events that left nothing but example letters.
            tally.dlq = sum(tally.dlq_by_reason.values()) - lost_letters + len(lost)
        return tally


def _as_duplicate(example: Example) -> Example:
    decision = Decision(status="rejected", reasons=[DropReason.DUPLICATE])
    return example.model_copy(update={"decision": decision})
