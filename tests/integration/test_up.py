"""`winnow up` starts the broker and every service, and a signal stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_broker_and_services(tmp_path: Path, sig: signal.Signals) -> None:
    """After SIGINT or SIGTERM, `winnow up` exits and leaves no service or broker running."""
    env = {
        **os.environ,
        "WINNOW_DATA_DIR": str(tmp_path),
        "WINNOW_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "winnow", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()  # printed once every service is ready
    assert "winnow is up" in line, proc.stderr.read()
    assert all(f"{name} :" in line for name in ("validator", "scorer", "curator", "monitor")), line
    children = [c.pid for c in _children(proc.pid)]
    assert len(children) == 5  # broker + validator + scorer + curator + monitor
    proc.send_signal(sig)
    proc.wait(30)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in children if _alive(p)] == []
    events = [json.loads(x)["event"] for x in proc.stderr.read().splitlines() if x.startswith("{")]
    assert "supervisor_stopping" in events


class _Proc:
    def __init__(self, pid: int) -> None:
        self.pid = pid


def _children(pid: int) -> list[_Proc]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [_Proc(int(p)) for p in out.stdout.split()]
