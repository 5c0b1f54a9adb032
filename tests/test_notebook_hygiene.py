"""Report notebooks stay thin and clean (docs/reports.md, "Notebook conventions").

Every notebook under notebooks/ must: be committed without outputs; have one first code cell
tagged ``parameters`` whose lines are each ``name: type = value  # help`` with a literal value;
define no function or class; keep every code cell to at most 15 lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
MAX_CELL_LINES = 15
PARAMETER_LINE = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*): (?P<type>[A-Za-z_][\w\[\], .|]*) = (?P<value>.+?)  # \S.*$"
)


def hygiene_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Everything wrong with one notebook (empty = clean)."""
    problems = []
    code = [(n, c) for n, c in enumerate(nb.cells) if c.cell_type == "code"]
    tagged = [n for n, c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not code or tagged != [code[0][0]]:
        problems.append("the first code cell, and only it, must be tagged 'parameters'")
    for n, cell in code:
        if cell.get("outputs") or cell.get("execution_count"):
            problems.append(f"cell {n}: committed with outputs (clear them)")
        lines = [line for line in cell.source.splitlines() if line.strip()]
        if len(lines) > MAX_CELL_LINES and n not in tagged:  # parameters: one per line
            problems.append(f"cell {n}: {len(lines)} lines (at most {MAX_CELL_LINES})")
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            problems.append(f"cell {n}: not valid Python ({exc.msg})")
            continue
        defs = [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        if defs:
            problems.append(f"cell {n}: defines {', '.join(defs)} (move it into attendance_lib)")
        if n in tagged:
            for line in lines:
                match = PARAMETER_LINE.match(line)
                if not match:
                    problems.append(f"parameters: {line!r} is not 'name: type = value  # help'")
                    continue
                try:
                    ast.literal_eval(match["value"])
                except (ValueError, SyntaxError):
                    problems.append(f"parameters: {match['name']} is not a literal value")
    return problems


@pytest.mark.parametrize(
    "path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name
)  # fmt: skip
def test_report_notebooks_are_clean(path):
    assert hygiene_problems(nbformat.read(path, as_version=4)) == []


def test_fixture_notebooks_pass():
    for name in ("good", "broken", "school", "trivial"):
        assert hygiene_problems(nbformat.read(FIXTURES / f"{name}.ipynb", as_version=4)) == []


def _nb(params: str, *cells: str) -> nbformat.NotebookNode:
    first = new_code_cell(params)
    first.metadata["tags"] = ["parameters"]
    return new_notebook(cells=[first, *map(new_code_cell, cells)])


@pytest.mark.parametrize(
    ("nb", "expected"),
    [
        (_nb("x: int = 1  # a number", "def f():\n    return 1"), "defines f"),
        (_nb("x: int = 1  # a number", "class A:\n    pass"), "defines A"),
        (_nb("x: int = 1  # a number", "\n".join(f"a{n} = {n}" for n in range(16))), "16 lines"),
        (_nb("x = 1"), "is not 'name: type = value  # help'"),
        (_nb("x: int = 1"), "is not 'name: type = value  # help'"),
        (_nb("x: int = len('ab')  # derived"), "x is not a literal value"),
        (new_notebook(cells=[new_code_cell("x = 1")]), "tagged 'parameters'"),
    ],
)
def test_hygiene_catches(nb, expected):
    assert any(expected in p for p in hygiene_problems(nb)), hygiene_problems(nb)


def test_hygiene_catches_outputs():
    nb = _nb("x: int = 1  # a number", "print(x)")
    nb.cells[1].execution_count = 1
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    assert any("outputs" in p for p in hygiene_problems(nb))
