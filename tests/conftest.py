"""Shared test set-up: a private validation cache per test session, and shared fixtures.

Builders for small data folders live in ``tests/builders.py`` (``from builders import ...``);
the runner's fixtures (``runner_project``, ``tiny_la``) in ``tests/runner_fixtures.py``.
"""

from __future__ import annotations

import os

import pytest

# Registered here so every test module can use the runner's fixtures (``runner_project``,
# ``tiny_la``, ``small_synthetic_la``, ``project_reports``).
pytest_plugins = ["runner_fixtures"]


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Point ``ATTENDANCE_WORKBENCH_CACHE`` at a fresh folder so tests never share the user's cache."""
    old = os.environ.get("ATTENDANCE_WORKBENCH_CACHE")
    os.environ["ATTENDANCE_WORKBENCH_CACHE"] = str(tmp_path_factory.mktemp("workbench-cache"))
    yield
    if old is None:
        os.environ.pop("ATTENDANCE_WORKBENCH_CACHE", None)
    else:
        os.environ["ATTENDANCE_WORKBENCH_CACHE"] = old


@pytest.fixture
def data_folder(tmp_path):
    """A function writing a data folder under this test's tmp_path (see builders.write_folder)."""
    from builders import write_folder

    def make(**tables):
        return write_folder(tmp_path, **tables)

    return make
