"""Fixtures of the integration tests: the S3-protocol server of the object-storage tests."""

from tests.export.s3lib import s3, s3_server  # noqa: F401
