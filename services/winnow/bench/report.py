"""Benchmark results: figures beside their ceilings, a terminal table, a docs section and a plot.

Every benchmark returns a :class:`BenchResult`: Winnow's figures, each with the ceiling measured
in the same run (the same work done the fastest known way) and a goal. :func:`print_result`
shows it; :func:`append_to_docs` writes the PNG to ``<docs dir>/img/bench-<name>.png`` and
appends a markdown section (command, machine, commit, date, load average, the figures table,
extra tables, notes, the plot) to ``docs/benchmarks.md``. Nothing here asserts a timing.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure as PlotFigure


@dataclass(frozen=True)
class Goal:
    """A target on a figure's value or on its ratio to the ceiling."""

    threshold: float
    on: Literal["value", "ratio"] = "value"
    at_least: bool = True
    unit: str = ""

    def met(self, value: float, ratio: float | None) -> bool | None:
        """Whether the goal holds; None when it is on a ratio that could not be computed."""
        x = value if self.on == "value" else ratio
        if x is None:
            return None
        return x >= self.threshold if self.at_least else x <= self.threshold

    def describe(self) -> str:
        """``>= 5,000 rows/s`` or ``>= 0.70 of the ceiling``."""
        sign = ">=" if self.at_least else "<="
        if self.on == "ratio":
            return f"{sign} {self.threshold:.2f} of the ceiling"
        return f"{sign} {fmt(self.threshold)} {self.unit}".rstrip()


@dataclass(frozen=True)
class Figure:
    """One measured figure; ``ratio`` is always value / ceiling (say which way is better)."""

    name: str
    value: float
    unit: str
    ceiling: float | None = None
    ceiling_label: str = ""
    goal: Goal | None = None

    @property
    def ratio(self) -> float | None:
        """value / ceiling, or None without a (non-zero) ceiling."""
        if self.ceiling is None or self.ceiling == 0:
            return None
        return self.value / self.ceiling

    @property
    def goal_met(self) -> bool | None:
        """Whether the goal holds (None: no goal, or a ratio goal without a ratio)."""
        return None if self.goal is None else self.goal.met(self.value, self.ratio)


@dataclass(frozen=True)
class Machine:
    """Where and when a benchmark ran."""

    cpu: str
    cores: int
    ram_gib: float
    python: str
    onnxruntime: str
    commit: str
    date: str
    load_before: tuple[float, float, float]

    def describe(self, load_after: tuple[float, float, float] | None = None) -> str:
        """One markdown paragraph for the docs section."""
        load = "/".join(f"{x:.2f}" for x in self.load_before)
        after = "/".join(f"{x:.2f}" for x in load_after) if load_after else "-"
        return (
            f"Machine: {self.cpu}, {self.cores} logical CPUs, {self.ram_gib:.1f} GiB RAM, "
            f"Python {self.python}, onnxruntime {self.onnxruntime}. Commit: {self.commit}. "
            f"Date: {self.date}. Load average (1/5/15 min, `uptime`) at start {load}, "
            f"at end {after}."
        )


def machine_info(repo: Path | None = None) -> Machine:
    """CPU model, cores, RAM, Python, onnxruntime, git commit, date and the load average now."""
    cpu = platform.processor() or platform.machine()
    ram = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass  # not Linux: the platform's names are what we have
    ort = "not installed"
    for dist in ("onnxruntime-gpu", "onnxruntime"):
        try:
            ort = f"{dist} {metadata.version(dist)}"
            break
        except metadata.PackageNotFoundError:
            continue
    return Machine(
        cpu=cpu,
        cores=os.cpu_count() or 1,
        ram_gib=ram,
        python=platform.python_version(),
        onnxruntime=ort,
        commit=git_commit(repo),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        load_before=load_average(),
    )


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (zeros where the OS has none)."""
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def git_commit(repo: Path | None = None) -> str:
    """The short commit id, with ``+ uncommitted changes`` when the tree is dirty."""
    cwd = repo or Path(__file__).resolve().parents[3]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def fmt(x: float) -> str:
    """Thousands separators for large numbers, three significant decimals for small ones."""
    if x != x:  # NaN
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.4f}"


def _with_unit(x: float, unit: str) -> str:
    return f"{fmt(x)} {unit}".rstrip()


Plotter = Callable[["BenchResult"], "PlotFigure"]


@dataclass
class BenchResult:
    """What one ``winnow bench <name>`` run measured."""

    name: str
    command: str
    machine: Machine
    figures: list[Figure]
    tables: list[str] = field(default_factory=list)
    """Extra markdown tables (already rendered) with the details behind the figures."""
    notes: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)
    """Raw series for the plot and for tests (sizes, rates, latencies...)."""
    plot: Plotter | None = None
    load_after: tuple[float, float, float] | None = None

    def finish(self) -> BenchResult:
        """Record the load average at the end of the run."""
        self.load_after = load_average()
        return self


def figures_table(figures: list[Figure]) -> str:
    """The markdown table of figures: value, ceiling, ratio, goal and whether it is met."""
    lines = [
        "| figure | Winnow | ceiling | ratio | goal | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for f in figures:
        ceiling = (
            "-" if f.ceiling is None else f"{_with_unit(f.ceiling, f.unit)} ({f.ceiling_label})"
        )
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}"
        goal = "-" if f.goal is None else f.goal.describe()
        met = {None: "-", True: "yes", False: "**no**"}[f.goal_met]
        lines.append(
            f"| {f.name} | {fmt(f.value)} {f.unit} | {ceiling} | {ratio} | {goal} | {met} |"
        )
    return "\n".join(lines)


def print_result(result: BenchResult) -> None:
    """The figures as a rich table on the terminal, then the extra tables and notes."""
    from rich.console import Console
    from rich.table import Table

    # Piped output (a log, CI) gets wide lines rather than rich's 80-column default.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    table = Table(title=f"winnow bench {result.name}")
    for col in ("figure", "Winnow", "ceiling", "ratio", "goal", "met"):
        table.add_column(col, justify="right" if col in ("Winnow", "ratio") else "left")
    for f in result.figures:
        table.add_row(
            f.name,
            _with_unit(f.value, f.unit),
            "-" if f.ceiling is None else f"{_with_unit(f.ceiling, f.unit)} ({f.ceiling_label})",
            "-" if f.ratio is None else f"{f.ratio:.2f}",
            "-" if f.goal is None else f.goal.describe(),
            {None: "-", True: "[green]yes[/]", False: "[red]no[/]"}[f.goal_met],
        )
    console.print(table)
    for extra in result.tables:
        console.print(extra, markup=False, highlight=False)
        console.print()
    for note in result.notes:
        console.print(f"- {note}", markup=False, highlight=False)
    console.print(result.machine.describe(result.load_after), markup=False, highlight=False)


def render_section(result: BenchResult, image: str | None) -> str:
    """The markdown section appended to ``docs/benchmarks.md``."""
    parts = [
        f"## `winnow bench {result.name}` ({result.machine.date[:10]})",
        "",
        f"Command: `{result.command}`",
        "",
        result.machine.describe(result.load_after),
        "",
        figures_table(result.figures),
    ]
    for extra in result.tables:
        parts += ["", extra]
    if result.notes:
        parts.append("")
        parts += [f"- {note}" for note in result.notes]
    if image:
        parts += ["", f"![winnow bench {result.name}]({image})"]
    return "\n".join(parts) + "\n"


def save_plot(result: BenchResult, path: Path) -> Path | None:
    """Draw the result's plot to ``path`` (PNG); None when the benchmark has no plot."""
    if result.plot is None:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    fig = result.plot(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def append_to_docs(result: BenchResult, docs: Path) -> Path:
    """Write ``img/bench-<name>.png`` beside ``docs`` and append the section; return the PNG."""
    image = save_plot(result, docs.parent / "img" / f"bench-{result.name}.png")
    relative = f"img/{image.name}" if image else None
    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    if not text.endswith("\n"):
        text += "\n"
    docs.write_text(text + "\n" + render_section(result, relative), encoding="utf-8")
    return image if image else docs


def rss_bytes() -> int:
    """This process's resident memory now (``VmRSS``), 0 where /proc is absent."""
    return _proc_status("VmRSS:")


def peak_rss_bytes() -> int:
    """This process's peak resident memory (``VmHWM``), 0 where /proc is absent."""
    return _proc_status("VmHWM:")


def _proc_status(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))
