"""Kafka-free processing steps over the canonical ``Example``.

Each step has one input, one output and an enum reason for every drop, so a unit test can drive it
on a single record. The faust agents in ``winnow.agents`` only move records between topics and
these steps.
"""
