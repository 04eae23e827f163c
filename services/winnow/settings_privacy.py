"""Settings of personal-data handling (a base of ``winnow.settings.Settings``, kept apart so
each file stays small): secure-default switches, the DLQ and subject-hash keys, retention."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class PrivacySettings(BaseSettings):
    """``WINNOW_*`` settings of redaction, dead letters at rest, erasure and secure defaults."""

    env: Literal["production", "development"] = Field(
        "production", description="`development` lets the gateway start without a pepper."
    )
    monitor_dashboard_open: bool = Field(
        False, description="Serve `/dashboard` without a `read` API key (private networks only)."
    )
    dlq_key: SecretStr | None = Field(
        None,
        description="Key that encrypts the original bytes of the validator's dead letters (the "
        "only unredacted copy): 32 bytes, URL-safe base64 (`winnow dlq keygen`). Prefer "
        "`WINNOW_DLQ_KEY_FILE`. Unset: dead letters keep a redacted copy, not the original.",
    )
    dlq_key_file: Path | None = Field(None, description="File holding the DLQ key (a Secret).")
    pii_subject_key: SecretStr | None = Field(
        None,
        description="HMAC key for the hashes of removed e-mails, phones, ids and names that "
        "each example keeps so `winnow erase` can find a person's rows (prefer "
        "`WINNOW_PII_SUBJECT_KEY_FILE`). Unset: nothing is recorded and erasure cannot run.",
    )
    pii_subject_key_file: Path | None = Field(None, description="File holding that key.")
    pii_order_numbers: Literal["keep", "pseudonymise", "redact"] = Field(
        "pseudonymise",
        description="Order/ticket/invoice numbers: `keep`, `pseudonymise` (keyed hash with "
        "the subject key: the same order, the same `ORD-...`), or `redact` (`<ORDER_1>`).",
    )
    pii_placeholders: Literal["numbered", "surrogate"] = Field(
        "numbered",
        description="What replaces a removed value: `numbered` placeholders (`<NAME_1>`, the "
        "same person keeps one number in a conversation) or `surrogate` stand-ins (a realistic "
        "fake name, address, id, 555-01xx phone, example.com e-mail, test card; keyed by the "
        "subject key, so `numbered` without it). IBANs, URLs, secrets and credentials always "
        "keep placeholders.",
    )
    dlq_retention_days: float = Field(
        14.0, gt=0, description="Days dead letters are kept (curator hourly, `winnow dlq purge`)."
    )

    def subject_key(self) -> bytes | None:
        """The subject-hash key as bytes, or None."""
        return self.pii_subject_key.get_secret_value().encode() if self.pii_subject_key else None
