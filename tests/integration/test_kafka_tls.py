"""Kafka over TLS end to end: Winnow's own client settings through stunnel in front of Tansu.

This Tansu build's own TLS does not serve aiokafka (docs: dependency facts), so stunnel4
terminates mutual TLS in front of a plaintext Tansu whose advertised listener is stunnel's port.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from winnow.kafka.admin import ensure_topics
from winnow.kafka.broker import free_port, tansu_binary, wait_for_port
from winnow.kafka.clients import consumer_kwargs, producer_kwargs
from winnow.settings import Settings
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration

STUNNEL = shutil.which("stunnel4") or shutil.which("stunnel")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(
    cn: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.with_suffix(".key").chmod(0o600)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("winnow test CA", ca_key, _name("winnow test CA"), ca_key, ca=True)
    _write(d / "ca", ca, None)
    for cn, server in (("server", True), ("client", False)):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(d / cn, _issue(cn, key, ca.subject, ca_key, server=server), key)
    return d


@pytest.fixture(scope="module")
def tls_bootstrap(pki: Path) -> Iterator[str]:
    """`host:port` of stunnel (mutual TLS) in front of a plaintext Tansu advertising it."""
    if STUNNEL is None:
        missing = "stunnel4 is not installed (apt-get install -y stunnel4)"
        if os.environ.get("CI"):  # .ci/run installs it: a skip there would hide the TLS test
            pytest.fail(f"the Kafka TLS test must run in CI: {missing}")
        pytest.skip(missing)
    plain, tls = free_port(), free_port()
    tansu = subprocess.Popen(
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{plain}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{tls}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    conf = pki / "stunnel.conf"
    conf.write_text(
        "foreground = yes\npid =\ndebug = 4\n[kafka]\n"
        f"accept = 127.0.0.1:{tls}\nconnect = 127.0.0.1:{plain}\n"
        f"cert = {pki / 'server.pem'}\nkey = {pki / 'server.key'}\n"
        f"CAfile = {pki / 'ca.pem'}\nverifyChain = yes\nrequireCert = yes\n"
    )
    tunnel = subprocess.Popen(
        [STUNNEL, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", plain)
        wait_for_port("127.0.0.1", tls)
        yield f"127.0.0.1:{tls}"
    finally:
        for proc in (tunnel, tansu):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


def _settings(bootstrap: str, pki: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "kafka_bootstrap": bootstrap,
        "kafka_idempotence": False,
        "kafka_security_protocol": "SSL",
        "kafka_ssl_cafile": pki / "ca.pem",
        "kafka_ssl_certfile": pki / "client.pem",
        "kafka_ssl_keyfile": pki / "client.key",
        "topic_prefix": "tls",
        "kafka_session_timeout_s": 6.0,
        "kafka_heartbeat_s": 0.5,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def _round_trip(settings: Settings) -> list[bytes]:
    await ensure_topics(settings, timeout_s=20)
    topic = TopicLayout.from_settings(settings).source("tickets")
    producer = AIOKafkaProducer(**producer_kwargs(settings))
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(topic, value=f"secret-{i}".encode(), key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, **consumer_kwargs(settings))
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < 3:
                batch = await consumer.getmany(timeout_ms=500)
                got += [r.value for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return got


async def _refused(**kwargs: object) -> BaseException | None:
    producer = AIOKafkaProducer(request_timeout_ms=3000, **kwargs)
    try:
        async with asyncio.timeout(15):
            await producer.start()
            await producer.send_and_wait("tls.sources.tickets", b"x")
    except BaseException as exc:  # any failure to connect is the expected outcome here
        return exc
    finally:
        await producer.stop()
    return None


class TestKafkaTls:
    """Winnow's client settings speak mutual TLS; anything less is refused."""

    def test_produce_and_consume_over_tls(self, tls_bootstrap: str, pki: Path) -> None:
        """Topics are created, records produced and consumed through TLS with Winnow's kwargs."""
        settings = _settings(tls_bootstrap, pki)
        assert producer_kwargs(settings)["security_protocol"] == "SSL"
        assert asyncio.run(_round_trip(settings)) == [b"secret-0", b"secret-1", b"secret-2"]

    def test_plaintext_client_refused(self, tls_bootstrap: str) -> None:
        """A plaintext client cannot talk to the TLS port."""
        exc = asyncio.run(_refused(bootstrap_servers=tls_bootstrap))
        assert isinstance(exc, KafkaConnectionError), repr(exc)

    def test_client_without_certificate_refused(self, tls_bootstrap: str, pki: Path) -> None:
        """TLS without the client certificate is refused (the tunnel requires one)."""
        settings = _settings(tls_bootstrap, pki, kafka_ssl_certfile=None, kafka_ssl_keyfile=None)
        kwargs = producer_kwargs(settings)
        kwargs.pop("acks", None)
        exc = asyncio.run(_refused(**kwargs))
        assert isinstance(exc, KafkaConnectionError), repr(exc)

    def test_untrusted_server_refused(self, tls_bootstrap: str, pki: Path) -> None:
        """A client that does not trust the test CA refuses the broker's certificate."""
        settings = _settings(tls_bootstrap, pki, kafka_ssl_cafile=None)
        kwargs = producer_kwargs(settings)
        kwargs.pop("acks", None)
        exc = asyncio.run(_refused(**kwargs))
        assert isinstance(exc, KafkaConnectionError), repr(exc)
