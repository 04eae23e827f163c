"""Exact and near-duplicate detection: MinHash signatures and the per-tenant LSH index."""
