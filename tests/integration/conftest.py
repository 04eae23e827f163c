"""Fixtures of the integration tests: the S3-protocol server of the object-storage tests, and the
gateway's database, broker and keys (tests/integration/test_tracing.py runs a gateway)."""

from tests.export.s3lib import s3, s3_server  # noqa: F401
from tests.gateway.conftest import broker, gateway_db, keys, make_key  # noqa: F401
