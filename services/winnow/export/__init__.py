"""Exports and retrain triggers: snapshots of curated data per domain, in training formats."""

from winnow.export.exceptions import ExportError
from winnow.export.exporter import ExportResult, export_snapshot, record
from winnow.export.formats import ExportFormat, rows_for
from winnow.export.retrain import DomainStats, Due, RetrainTrigger, due_domains
from winnow.export.tokens import TokenCounter, compute_optimal_parameters, token_counter

__all__ = [
    "DomainStats",
    "Due",
    "ExportError",
    "ExportFormat",
    "ExportResult",
    "RetrainTrigger",
    "TokenCounter",
    "compute_optimal_parameters",
    "due_domains",
    "export_snapshot",
    "record",
    "rows_for",
    "token_counter",
]
