"""The retraining store: curated examples, rejections and dead letters (SQLModel + Alembic)."""

from winnow.store.store import ExampleStore, WriteOutcome

__all__ = ["ExampleStore", "WriteOutcome"]
