"""Winnow: a streaming data flywheel from support and feedback events to curated training data."""

__version__ = "0.1.0"
