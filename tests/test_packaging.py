"""Packaging stays as issue 2 says: pyproject is the single source of truth."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_holds_only_python_pip_and_the_editable_install():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["dependencies"] == ["python=3.11", "pip", {"pip": ["-e .[dev]"]}]


def test_console_script_and_python_version():
    project = _pyproject()["project"]
    assert project["scripts"] == {"attendance-workbench": "attendance_lib.cli:main"}
    assert project["requires-python"].startswith(">=3.11")
    assert "dev" in project["optional-dependencies"]


def test_nbconvert_pinned_at_or_above_the_security_fix():
    reqs = [Requirement(r) for r in _pyproject()["project"]["dependencies"]]
    (nbconvert,) = [r for r in reqs if r.name == "nbconvert"]
    assert "7.17.1" in nbconvert.specifier
    assert "7.17.0" not in nbconvert.specifier
    assert "7.16.6" not in nbconvert.specifier


def test_every_dependency_is_pinned_compatibly():
    project = _pyproject()["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    for text in reqs:
        assert str(Requirement(text).specifier), f"{text} has no version bound"


def test_python_m_attendance_lib_version():
    proc = subprocess.run(
        [sys.executable, "-m", "attendance_lib", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    version = _pyproject()["project"]["version"]
    assert proc.stdout.strip() == f"attendance-workbench {version}"
