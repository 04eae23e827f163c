"""The HTTP ingestion gateway: ``POST /v1/events`` into the source topics, API keys, exports."""
