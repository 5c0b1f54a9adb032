"""The folders are the architecture: imports run down the layers, never up.

Layers, lowest first (docs/architecture.md):

    core -> contract -> importers -> engine -> analyses -> present -> runner -> cli

A module may import its own layer or a lower one. ``synth`` (the synthetic LA) stands
beside the stack: it may import ``core`` only, and only the command line imports it. Inside
``analyses``, a report family imports ``analyses/shared`` and itself, never another family.

Imports are read from the source with :mod:`ast`, including those inside functions, so a
lazy import cannot hide an upward edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "attendance_lib"

LAYERS = ["core", "contract", "importers", "engine", "analyses", "present", "runner", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}
#: Modules at the package's top level and the layer they belong to.
TOP_LEVEL = {"__init__": "core", "__main__": "cli", "cli": "cli"}
FAMILIES_SHARED = "shared"


def layer_of(module: str) -> tuple[str, str | None]:
    """(layer, analyses family or None) of a dotted module name under ``attendance_lib``."""
    parts = module.split(".")
    assert parts[0] == "attendance_lib", module
    if len(parts) == 1:
        return "core", None
    head = parts[1]
    if head in TOP_LEVEL:
        return TOP_LEVEL[head], None
    if head == "synth":
        return "synth", None
    if head not in RANK:
        raise AssertionError(f"{module}: not in any layer; add its folder to docs/architecture.md")
    family = parts[2] if head == "analyses" and len(parts) > 2 else None
    return head, family


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every ``attendance_lib`` module ``path`` imports, with its line number."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # "from attendance_lib.analyses import impact" imports the subpackage
            found += [
                (node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "*"
            ]
    return [
        (line, name)
        for line, name in found
        if name.split(".")[0] == "attendance_lib" and _exists(name)
    ]


def _exists(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def violation(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``, or None when the edge is allowed."""
    (src, src_family), (dst, dst_family) = layer_of(importer), layer_of(imported)
    if imported == "attendance_lib":
        return None  # the package itself holds only its version
    if src == "synth":
        return None if dst in ("core", "synth") else f"synth may import core only, not {dst}"
    if dst == "synth":
        return None if src == "cli" else "only the command line imports synth"
    if RANK[dst] > RANK[src]:
        return f"{src} imports the higher layer {dst}"
    if src == dst == "analyses" and src_family and dst_family:
        if dst_family not in (src_family, FAMILIES_SHARED):
            return f"report family {src_family} imports family {dst_family}"
        if src_family == FAMILIES_SHARED and dst_family != FAMILIES_SHARED:
            return f"analyses/shared imports family {dst_family}"
    return None


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_import_runs_down_the_layers() -> None:
    problems = []
    for path in all_modules():
        importer = module_name(path)
        for line, imported in imports_of(path):
            why = violation(importer, imported)
            if why:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {imported}: {why}")
    assert not problems, "upward imports:\n" + "\n".join(problems)


def test_every_folder_is_a_known_layer() -> None:
    for path in all_modules():
        layer_of(module_name(path))  # raises for a module outside every layer


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("attendance_lib.engine.sessions", "attendance_lib.core.codes", True),
        ("attendance_lib.core.codes", "attendance_lib.engine.sessions", False),
        ("attendance_lib.contract.dataset", "attendance_lib.engine.sessions", False),
        ("attendance_lib.engine.sessions", "attendance_lib.present.notebook", False),
        ("attendance_lib.present.notebook", "attendance_lib.runner.run", False),
        ("attendance_lib.runner.run", "attendance_lib.contract.dataset", True),
        (
            "attendance_lib.analyses.impact.matching",
            "attendance_lib.analyses.shared.dfe_cohort",
            True,
        ),
        (
            "attendance_lib.analyses.impact.matching",
            "attendance_lib.analyses.strategy.termly",
            False,
        ),
        (
            "attendance_lib.analyses.shared.dfe_cohort",
            "attendance_lib.analyses.impact.windows",
            False,
        ),
        ("attendance_lib.synth.grid", "attendance_lib.core.codes", True),
        ("attendance_lib.synth.grid", "attendance_lib.engine.sessions", False),
        ("attendance_lib.runner.run", "attendance_lib.synth", False),
        ("attendance_lib.cli", "attendance_lib.synth", True),
    ],
)
def test_the_rule_itself(importer: str, imported: str, allowed: bool) -> None:
    assert (violation(importer, imported) is None) is allowed


def test_relative_and_lazy_imports_are_read() -> None:
    src = PACKAGE / "synth" / "grid.py"
    assert "attendance_lib.core.codes" in {name for _, name in imports_of(src)}
    runner = PACKAGE / "runner" / "run.py"
    assert "attendance_lib.contract.dataset" in {name for _, name in imports_of(runner)}
