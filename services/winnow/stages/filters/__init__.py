"""Curation filters: each returns a drop reason or None; ``base.decide`` applies them."""
