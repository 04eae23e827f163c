"""Kafka security settings reach aiokafka and faust alike; secrets come from env or files."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from winnow.agents.runtime import build_app
from winnow.kafka.clients import admin_kwargs, consumer_kwargs, producer_kwargs, security_kwargs
from winnow.settings import Settings


class TestClientKwargs:
    """`security_kwargs` feeds producers, consumers and the admin client."""

    def test_plaintext_adds_nothing(self) -> None:
        """PLAINTEXT keeps the old keyword arguments exactly."""
        s = Settings()
        assert security_kwargs(s) == {}
        assert "security_protocol" not in producer_kwargs(s)
        assert "security_protocol" not in consumer_kwargs(s)
        assert admin_kwargs(s) == {"bootstrap_servers": s.kafka_bootstrap}

    @pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
    def test_sasl_ssl(self, mechanism: str) -> None:
        """SASL_SSL carries the mechanism, the credentials and a verifying TLS context."""
        s = Settings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism=mechanism,
            kafka_sasl_username="winnow",
            kafka_sasl_password="pw",
        )
        for kwargs in (producer_kwargs(s), consumer_kwargs(s), admin_kwargs(s)):
            assert kwargs["security_protocol"] == "SASL_SSL"
            assert kwargs["sasl_mechanism"] == mechanism
            assert kwargs["sasl_plain_username"] == "winnow"
            assert kwargs["sasl_plain_password"] == "pw"
            assert kwargs["ssl_context"].verify_mode == ssl.CERT_REQUIRED
        assert producer_kwargs(s)["enable_idempotence"] is True

    def test_sasl_plaintext_has_no_tls(self) -> None:
        """SASL_PLAINTEXT sends credentials without a TLS context."""
        s = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u")
        assert "ssl_context" not in security_kwargs(s)


class TestFaust:
    """The services' faust apps get the same credentials."""

    def test_sasl_ssl_credentials(self, tmp_path: Path) -> None:
        """faust turns the settings into SASL_SSL with SCRAM and a TLS context."""
        s = Settings(
            data_dir=tmp_path,
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="winnow",
            kafka_sasl_password="pw",
        )
        auth = credentials_to_aiokafka_auth(build_app("validator", s).conf.broker_credentials)
        assert auth["security_protocol"] == "SASL_SSL"
        assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
        assert auth["sasl_plain_username"] == "winnow" and auth["sasl_plain_password"] == "pw"
        assert isinstance(auth["ssl_context"], ssl.SSLContext)

    def test_ssl_and_plaintext(self, tmp_path: Path) -> None:
        """SSL gives faust TLS credentials; PLAINTEXT gives none, as before."""
        tls = build_app("scorer", Settings(data_dir=tmp_path, kafka_security_protocol="SSL"))
        auth = credentials_to_aiokafka_auth(tls.conf.broker_credentials)
        assert auth["security_protocol"] == "SSL"
        assert build_app("curator", Settings(data_dir=tmp_path)).conf.broker_credentials is None


class TestSecretFiles:
    """`*_FILE` variants read mounted secrets; a secret never shows in a repr."""

    def test_password_and_pepper_from_files(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The files' contents (without the trailing newline) become the secrets."""
        (tmp_path / "pw").write_text("s3cret\n")
        (tmp_path / "pepper").write_text("pepper-value")
        monkeypatch.setenv("WINNOW_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "pw"))
        monkeypatch.setenv("WINNOW_API_KEY_PEPPER_FILE", str(tmp_path / "pepper"))
        s = Settings()
        assert s.kafka_sasl_password is not None and s.api_key_pepper is not None
        assert s.kafka_sasl_password.get_secret_value() == "s3cret"
        assert s.api_key_pepper.get_secret_value() == "pepper-value"
        assert "s3cret" not in repr(s) and "pepper-value" not in repr(s)

    def test_both_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A value and a file for the same secret is ambiguous and refused."""
        (tmp_path / "pw").write_text("a")
        monkeypatch.setenv("WINNOW_KAFKA_SASL_PASSWORD", "b")
        monkeypatch.setenv("WINNOW_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "pw"))
        with pytest.raises(ValidationError, match="not both"):
            Settings()
