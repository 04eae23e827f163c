"""The package's shape: every module imports, no import cycle, the layers, the size limits.

Imports are read statically (``ast``) for the rules, so a lazy import inside a function breaks
a layer as much as one at the top; cycles count only module-level imports outside
``if TYPE_CHECKING:``, the ones that run when the module is first imported. A fresh interpreter
then imports every module, which catches what the static view cannot (an import error, a name a
module expects from a half-initialised one).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import winnow

PACKAGE = Path(winnow.__file__).resolve().parent
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80

# (importers, forbidden targets, importers exempt): a module under any importer prefix may not
# import a module under any target prefix.
LAYER_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("winnow.stages", "winnow.pii"),
        ("winnow.agents", "winnow.cli", "winnow.gateway", "winnow.monitor"),
        (),
    ),
    (("winnow.scoring",), ("winnow.scoring.build",), ("winnow.scoring.build",)),
    (("winnow.store",), ("winnow.stages",), ()),
    # Tracing belongs to the adapters (agents, gateway): the stages and the store stay plain.
    (
        ("winnow.stages", "winnow.pii", "winnow.store", "winnow.dedup", "winnow.scoring"),
        ("winnow.tracing", "opentelemetry"),
        (),
    ),
)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@dataclass(frozen=True)
class Import:
    """One import statement's target module, where it is, and whether it runs at import time."""

    target: str
    line: int
    at_import: bool
    """Module level and outside ``if TYPE_CHECKING:``: runs when the importer is imported."""


def _module_files() -> dict[str, Path]:
    """Every importable module of ``winnow`` (migration scripts and ``__main__`` left out)."""
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = rel.parts
        # Alembic loads the migrations itself (env.py runs a migration on import); __main__
        # modules run their command on import.
        if "migrations" in parts or parts[-1] == "__main__" or "__pycache__" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _module_files()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module name of ``from <...> import`` inside ``module``."""
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str) -> Iterator[Import]:
    """The ``winnow`` modules that ``module`` imports, with where and when."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))

    def visit(nodes: list[ast.AST], at_import: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(alias.name, node.lineno, at_import)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, node)
                for alias in node.names:
                    # ``from pkg import submodule`` imports the submodule itself.
                    sub = f"{base}.{alias.name}"
                    yield Import(sub if sub in MODULES else base, node.lineno, at_import)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from visit(list(node.body), False)
                yield from visit(list(node.orelse), at_import)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(list(node.body), False)  # runs when called, not on import
            else:
                yield from visit(list(ast.iter_child_nodes(node)), at_import)

    for found in visit(list(tree.body), True):
        if _under(found.target, "winnow"):
            yield found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_static_reader_sees_the_package() -> None:
    """The walk finds the package's modules and the imports of a known one (guards the checks
    below against passing because they read nothing)."""
    assert len(MODULES) > 50 and "winnow.monitor.dashboard" in MODULES
    targets = {i.target for i in _imports("winnow.monitor.dashboard")}
    assert "winnow.monitor.charts" in targets
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    """No chain of module-level imports leads from a module back to itself."""
    graph = {
        name: {i.target for i in _imports(name) if i.at_import and i.target != name}
        for name in MODULES
    }
    cycles = _cycles(graph)
    assert not cycles, "import cycles (module-level imports):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_layers() -> None:
    """Stages and pii never import agents, cli, gateway or monitor; scoring never imports
    scoring.build; store never imports stages (lazy and type-only imports included)."""
    broken = [
        f"{name}:{found.line} imports {found.target}"
        for name in MODULES
        for importers, targets, exempt in LAYER_RULES
        if any(_under(name, p) for p in importers) and not any(_under(name, p) for p in exempt)
        for found in _imports(name)
        if any(_under(found.target, t) for t in targets)
    ]
    assert not broken, "layer violations:\n" + "\n".join(broken)


_IMPORT_ALL = """
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failed[name] = traceback.format_exception_only(exc)[-1].strip()
print(json.dumps(failed))
"""


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    """Importing each module, one after another in a new interpreter, raises nothing."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, json.dumps(sorted(MODULES))],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    failed: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failed, "modules that do not import:\n" + "\n".join(
        f"{name}: {error}" for name, error in sorted(failed.items())
    )


def test_size_limits() -> None:
    """No file in services/winnow over 500 lines, no function over 80."""
    offenders: list[str] = []
    for path in sorted(PACKAGE.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(PACKAGE.parent)
        lines = len(text.splitlines())
        if lines > MAX_FILE_LINES:
            offenders.append(f"{rel}: {lines} lines")
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    offenders.append(f"{rel}:{node.lineno} {node.name}: {length} lines")
    assert not offenders, (
        f"over {MAX_FILE_LINES} lines a file or {MAX_FUNCTION_LINES} a function:\n"
        + "\n".join(offenders)
    )
