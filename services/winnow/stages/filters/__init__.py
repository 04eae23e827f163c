"""Curation filters: each returns drop reasons for an example; `decide` applies them."""
