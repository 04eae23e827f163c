"""A real S3-protocol server for tests (moto in server mode, on a free local port), and readers.

Clients reach it through the standard AWS environment (``AWS_ENDPOINT_URL`` and keys), exactly as
a pod would with IRSA or static credentials: nothing in Winnow is told it is a test server.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

BUCKET = "winnow-snapshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server, with one empty bucket."""
    from moto.server import ThreadedMotoServer

    # The server logs each request from its own thread: keep that out of the tests' captured
    # streams (another test's closed stream then prints "Logging error" into CLI output).
    quiet = logging.getLogger("werkzeug")
    quiet.setLevel(logging.ERROR)
    quiet.propagate = False
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The standard AWS environment pointed at the server; a fresh bucket; yields its URL."""
    import s3fs

    for name, value in {
        "AWS_ENDPOINT_URL": s3_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    if fs.exists(BUCKET):
        fs.rm(BUCKET, recursive=True)
    fs.mkdir(BUCKET)
    fs.invalidate_cache()
    yield f"s3://{BUCKET}"
    s3fs.S3FileSystem.clear_instance_cache()


def readme_header(text: str) -> dict[str, Any]:
    """The YAML header of a README.md."""
    assert text.startswith("---\n"), "README.md has no YAML header"
    header: dict[str, Any] = yaml.safe_load(text.split("---\n")[1])
    return header


def load_every_config(location: str, header: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Rows per (config, split), read with the real ``datasets.load_dataset``.

    A local folder is loaded as a dataset repository (its README.md declares the configs); a
    remote one through the parquet builder with the ``data_files`` that README declares, which
    is how `datasets` reads object storage.
    """
    import datasets

    datasets.disable_progress_bars()
    counts: dict[tuple[str, str], int] = {}
    for config in header["configs"]:
        name = config["config_name"]
        if "://" in location:
            files = {d["split"]: f"{location}/{d['path']}" for d in config["data_files"]}
            loaded = datasets.load_dataset("parquet", data_files=files)
        else:
            loaded = datasets.load_dataset(location, name)
        for split, ds in loaded.items():
            counts[(name, split)] = ds.num_rows
    return counts
