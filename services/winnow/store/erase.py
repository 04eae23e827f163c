"""Erasure: delete every stored row of one person, record it, mark the snapshots that held them.

The validator keeps keyed hashes of the identifiers it removed (``winnow.pii.subjects``) and
the store indexes them (``pii_subjects``). ``erase`` looks the person's hashes up there and, in
one transaction, deletes the accepted examples, rejections and dead letters that carry them,
drops their index rows, marks every snapshot that may contain an erased example (same tenant
and domain, exported after the example was stored) as ``superseded_by`` this erasure, and logs
the erasure (hashes and counts only, never the values) in ``erasures``.

Not reached: copies outside the store. Topic messages expire with the topics' retention (they
hold only redacted text and the hashes); files of earlier exports stay where they were written
and are named in the erasure's ``snapshots`` so whoever holds them can delete them; the
curator's in-memory near-duplicate index forgets the examples at its next rebuild.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import Engine, Table, delete, or_, select, update

from winnow.pii.subjects import subject_hash
from winnow.pii.types import PiiType
from winnow.store.tables import (
    DeadLetterRow,
    ErasureRow,
    ExampleRow,
    PiiSubjectRow,
    RejectionRow,
    SnapshotRow,
)

_T: dict[str, Table] = {
    "example": ExampleRow.__table__,  # type: ignore[attr-defined]
    "rejection": RejectionRow.__table__,  # type: ignore[attr-defined]
    "dlq": DeadLetterRow.__table__,  # type: ignore[attr-defined]
}
SUBJECTS: Table = PiiSubjectRow.__table__  # type: ignore[attr-defined]
ERASURES: Table = ErasureRow.__table__  # type: ignore[attr-defined]
SNAPSHOTS: Table = SnapshotRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Erasure:
    """What one erasure did."""

    id: str
    counts: dict[str, int] = field(default_factory=dict)
    snapshots: list[str] = field(default_factory=list)


def person_subjects(
    key: bytes,
    *,
    emails: list[str] = (),  # type: ignore[assignment]
    phones: list[str] = (),  # type: ignore[assignment]
    customer_ids: list[str] = (),  # type: ignore[assignment]
    names: list[str] = (),  # type: ignore[assignment]
) -> list[str]:
    """The subject hashes of a person's identifiers, as the validator recorded them."""
    pairs = [(PiiType.EMAIL, v) for v in emails] + [(PiiType.PHONE, v) for v in phones]
    pairs += [(PiiType.ID, v) for v in customer_ids] + [(PiiType.NAME, v) for v in names]
    return sorted({subject_hash(key, t, v) for t, v in pairs if v.strip()})


def erase(engine: Engine, subjects: list[str], requested_by: str | None = None) -> Erasure:
    """Delete every row carrying one of ``subjects``; see the module docstring."""
    now = datetime.now(UTC)
    erasure_id = hashlib.sha256(("|".join(subjects) + now.isoformat()).encode()).hexdigest()
    with engine.begin() as conn:
        refs: dict[str, set[str]] = {k: set() for k in _T}
        for kind, ref in conn.execute(
            select(SUBJECTS.c.kind, SUBJECTS.c.ref_id).where(SUBJECTS.c.subject.in_(subjects))
        ):
            refs.setdefault(kind, set()).add(ref)
        examples = _T["example"]
        held = conn.execute(
            select(examples.c.tenant, examples.c.domain, examples.c.stored_at).where(
                examples.c.id.in_(refs["example"])
            )
        ).all()
        counts = {}
        for kind, table in _T.items():
            ids = refs.get(kind, set())
            result = conn.execute(delete(table).where(table.c.id.in_(ids))) if ids else None
            counts[kind] = int(result.rowcount or 0) if result is not None else 0
        every = set().union(*refs.values())
        if every:
            conn.execute(delete(SUBJECTS).where(SUBJECTS.c.ref_id.in_(every)))
        marked = _mark_snapshots(conn, held, erasure_id)
        conn.execute(
            ERASURES.insert().values(
                id=erasure_id,
                subjects=subjects,
                counts=counts,
                snapshots=marked,
                requested_by=requested_by,
                erased_at=now,
            )
        )
    return Erasure(erasure_id, counts, marked)


def _mark_snapshots(conn: Any, held: Sequence[Any], erasure_id: str) -> list[str]:
    """Snapshots that may contain an erased example: same tenant, the example's domain (or all
    domains), exported (watermark) after the example was stored."""
    if not held:
        return []
    clauses = [
        (SNAPSHOTS.c.tenant == tenant)
        & (SNAPSHOTS.c.watermark >= stored_at)
        & (or_(SNAPSHOTS.c.domain.is_(None), SNAPSHOTS.c.domain == domain))
        for tenant, domain, stored_at in held
    ]
    ids = sorted({r[0] for r in conn.execute(select(SNAPSHOTS.c.id).where(or_(*clauses[:500])))})
    if ids:
        conn.execute(
            update(SNAPSHOTS)
            .where(SNAPSHOTS.c.id.in_(ids), SNAPSHOTS.c.superseded_by.is_(None))
            .values(superseded_by=erasure_id)
        )
    return ids


def erase_command(
    email: Annotated[list[str] | None, typer.Option(help="E-mail address (repeatable).")] = None,
    phone: Annotated[list[str] | None, typer.Option(help="Phone number (repeatable).")] = None,
    customer_id: Annotated[
        list[str] | None, typer.Option(help="Customer, account or user id (repeatable).")
    ] = None,
    name: Annotated[list[str] | None, typer.Option(help="Full name (repeatable).")] = None,
    requested_by: Annotated[
        str | None, typer.Option("--by", help="Who asked (ticket or request id), for the log.")
    ] = None,
) -> None:
    """Erase a person: every stored example, rejection and dead letter that carries one of
    their identifiers; the erasure is logged and affected snapshots are marked superseded."""
    from winnow.settings import get_settings
    from winnow.store.migrate import upgrade
    from winnow.store.store import make_engine

    settings = get_settings()
    key = settings.subject_key()
    if key is None:
        raise typer.BadParameter(
            "WINNOW_PII_SUBJECT_KEY (or _FILE) is not set: it must be the key the validator used"
        )
    subjects = person_subjects(
        key,
        emails=email or [],
        phones=phone or [],
        customer_ids=customer_id or [],
        names=name or [],
    )
    if not subjects:
        raise typer.BadParameter("name the person: --email, --phone, --customer-id or --name")
    if settings.db_auto_migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        done = erase(engine, subjects, requested_by)
    finally:
        engine.dispose()
    counts = ", ".join(f"{k} {v}" for k, v in done.counts.items())
    typer.echo(f"erasure {done.id}: deleted {counts}")
    if done.snapshots:
        typer.echo(
            f"snapshots superseded (delete their files, export again): {' '.join(done.snapshots)}"
        )
