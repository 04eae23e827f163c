"""``python -m winnow.monitor``: run the monitor service (what ``winnow serve monitor`` runs)."""

from __future__ import annotations

from winnow.monitor.cli import serve_monitor

if __name__ == "__main__":
    serve_monitor()
