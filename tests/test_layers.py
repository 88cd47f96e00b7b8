"""The layers hold: listeners → services → {views, store, providers, domain}; views are a leaf; providers never
import the bot; no import cycle in ``bot/`` or ``providers/``.

Read from the source with ``ast``, so every import counts: at the top, inside functions (the CLI's lazy
ones) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each layer may import from the project (prefixes of module names); a module not under one of these
# prefixes is wiring (app, cli, runtime, server, jobs, webhooks, payloads, admin) and may import any layer.
ALLOWED = {
    "providers": ("providers",),
    "bot.domain": ("providers.models",),
    "bot.parsing": ("bot.parsing", "providers.models"),
    "bot.views": ("bot.views", "bot.domain", "bot.store.tables", "providers.models"),
    "bot.store": ("bot.store", "bot.domain", "bot.errors", "providers.models"),
    "bot.errors": ("bot.parsing.errors", "providers.errors"),
    "bot.logs": (),  # a leaf: services and wiring tag log lines with what they know
    "bot.config": ("providers",),
    "bot.services": (
        "bot.services",
        "bot.views",
        "bot.store",
        "bot.domain",
        "bot.parsing",
        "bot.config",
        "bot.errors",
        "bot.logs",
        "providers",
    ),
    "bot.listeners": (
        "bot.listeners",
        "bot.services",
        "bot.views",
        "bot.domain",
        "bot.parsing",
        "bot.config",
        "bot.errors",
        "providers",
    ),
}


def modules() -> dict[str, Path]:
    """Every module of ``bot`` and ``providers`` (alembic's migrations aside), by dotted name."""
    found = {}
    for package in ("bot", "providers"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # ``from bot.views import ids`` imports the module bot.views.ids, ``from bot.config import X`` bot.config
            targets.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            )
    return {owner for target in targets if (owner := _owner(target, known)) and owner != name}


def _owner(target: str, known: dict[str, Path]) -> str | None:
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def layer_of(module: str) -> str | None:
    matches = [layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len, default=None)


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_no_module_imports_up_the_layers() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in sorted(graph().items())
        if (layer := layer_of(module))
        for target in sorted(targets)
        if not _under(target, ALLOWED[layer])
    ]
    assert wrong == []


def test_there_is_no_import_cycle() -> None:
    edges = graph()
    cycles = [component for component in _strongly_connected(edges) if len(component) > 1]
    assert cycles == []


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
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
                    work.append((child, iter(sorted(edges.get(child, ())))))
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
                components.append(sorted(component))
    return components


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("from bot.services.requests import Requests\n", {"bot.services.requests"}),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.listeners import ListenerDeps\n",
            {"bot.listeners"},
        ),
        ("def later():\n    import bot.cli\n", {"bot.cli"}),
        ("from . import blocks\nfrom .ids import SUBMIT\n", {"bot.views.blocks", "bot.views.ids"}),
    ],
)
def test_the_reader_sees_every_kind_of_import(tmp_path: Path, source: str, names: set[str]) -> None:
    """The reader itself: top-level, TYPE_CHECKING, function-level and relative imports all count."""
    path = tmp_path / "home.py"
    path.write_text(source)
    assert imports("bot.views.home", path, modules()) == names


def test_a_cycle_is_found() -> None:
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"], ["d"]]
