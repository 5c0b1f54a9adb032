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


def pytest_collection_modifyitems(config, items):
    """Under mutmut only: run a mutant's tests fastest first, so a killed mutant stops early.

    mutmut hands a mutant's covering tests to pytest in no particular order and stops at the
    first failure (``-x``), so a mutant that a fast test kills could first sit through a
    hypothesis property test of minutes. Ordering by the durations mutmut recorded (its
    ``mutmut-stats.json``, in the working folder ``mutants/``) changes only the order: the
    same tests run, with the same checks, and a surviving mutant still runs every one.
    Outside a mutant run (``MUTANT_UNDER_TEST`` unset or not a mutant's name) nothing changes.

    Tests that build the 3,000-pupil synthetic LA (the module fixture ``synthetic_la`` of
    ``test_impact_matching.py``: about a minute) are left out of a mutant's run, by their
    fixture, so a renamed test cannot slip back in; ``make test`` runs them.
    """
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    slow = [item for item in items if "synthetic_la" in getattr(item, "fixturenames", ())]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]
    import json

    try:
        with open("mutmut-stats.json", encoding="utf-8") as f:
            duration = json.load(f)["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    longest = max(duration.values(), default=0.0) + 1.0
    items.sort(key=lambda item: duration.get(item.nodeid, longest))
