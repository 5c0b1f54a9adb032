"""The runner end to end on fixture notebooks, with real kernels (marked slow)."""

from __future__ import annotations

import functools
import json
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from papermill.exceptions import PapermillExecutionError
from runner_fixtures import (  # noqa: F401  (fixtures)
    PROJECT_PARAMS_DIR,
    TINY_LA_URNS,
    runner_project,
    small_synthetic_la,
)

from attendance_lib.core.errors import ReportError
from attendance_lib.runner import execute as executing
from attendance_lib.runner import format_outcome, publish, run_all, run_report
from attendance_lib.runner import run as run_module
from attendance_lib.runner.offline import external_loads
from attendance_lib.runner.params import load_params
from attendance_lib.runner.privacy import check_report
from attendance_lib.runner.run import PublishPool, Unit, run_unit

slow = pytest.mark.slow


def _no_staging_left(folder: Path) -> bool:
    return not [p for p in folder.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name]


@slow
def test_run_publishes_html_tables_notebook_and_run_json(runner_project, tmp_path):  # noqa: F811
    root = runner_project("good")
    out = tmp_path / "out"
    outcome = run_report(root / "params" / "good.yaml", out_dir=out, progress=False)
    assert outcome.ok and [u.label for u in outcome.units] == ["good"]
    # the report folder holds only what readers read; the notebook and run.json are audit
    assert {p.name for p in out.iterdir()} == {"good.html", "tables", "tables.xlsx"}
    audit = tmp_path / "_runs" / "out"
    assert {p.name for p in audit.iterdir()} == {"good.ipynb", "run.json"}
    assert outcome.units[0].notebook == audit / "good.ipynb"
    csv = pd.read_csv(out / "tables" / "groups.csv", dtype=str)
    assert csv.to_dict("list") == {
        "group": ["A", "B", "C"], "pupils": ["1200", "c", "40"], "absence_pct": ["5.3", "c", "7.9"],
    }  # fmt: skip
    meta = pd.read_csv(out / "tables" / "metadata.csv", dtype=str)
    assert meta["col_name"].tolist() == ["group", "pupils", "absence_pct"]
    assert meta["label"].tolist() == ["Group", "Pupils", "Overall absence (%)"]
    xlsx = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    assert list(xlsx) == ["Notes", "Groups"] and len(xlsx["Groups"]) == 3
    assert list(xlsx["Groups"].columns) == ["Group", "Pupils", "Overall absence (%)"]
    html = (out / "good.html").read_text()
    assert "<title>Fixture report, 2023/24</title>" in html
    assert "1,200" in html and "5.3" in html  # GSS formatting reached the page
    assert "stray" not in html  # warnings, logging and stderr dropped
    assert "present.publish_table" not in html  # no code
    assert external_loads(html) == [] and check_report(html, {"groups": csv}) == []
    run = json.loads((audit / "run.json").read_text())
    assert run["status"] == "ok" and run["parameters"] == {"academic_year": "2023/24", "rows": 3}
    assert run["audience"] == "public"
    # paths relative to the report's own folder: portable, naming no folder of this machine
    assert run["outputs"]["tables"] == ["tables/groups.csv"]
    assert run["outputs"]["html"] == "good.html" and run["outputs"]["xlsx"] == "tables.xlsx"
    assert run["outputs"]["notebook"] == "../_runs/out/good.ipynb"
    assert run["library_version"] and run["seconds"]["execute"] > 0
    assert run["peak_memory_mb"] > 30  # the fresh kernel's peak, read before it shut down
    assert run["kernel_cpu_seconds"] > 0
    assert "ok      good" in format_outcome(outcome)
    assert _no_staging_left(tmp_path)


@slow
def test_set_override_reaches_the_notebook(runner_project, tmp_path):  # noqa: F811
    root = runner_project("good")
    out = tmp_path / "out"
    run_report(root / "params" / "good.yaml", out_dir=out, overrides={"rows": "1"}, progress=False)
    assert len(pd.read_csv(out / "tables" / "groups.csv")) == 1
    run = json.loads((tmp_path / "_runs" / "out" / "run.json").read_text())
    assert run["parameters"]["rows"] == 1


@slow
def test_broken_notebook_fails_clearly_and_keeps_the_good_report(runner_project, tmp_path):  # noqa: F811
    root = runner_project("good", "broken")
    out = tmp_path / "out"
    run_report(root / "params" / "good.yaml", out_dir=out, progress=False)
    before = (out / "good.html").read_bytes()
    with pytest.raises(ReportError) as err:
        run_report(root / "params" / "broken.yaml", out_dir=out, progress=False)
    text = str(err.value)
    assert "In [3]" in text
    assert "-->   3 | rate = total / groups" in text
    assert "ZeroDivisionError: division by zero" in text
    assert err.value.exit_code == 1 and not err.value.outcome.ok
    # the earlier good report is untouched; the failed notebook is kept for inspection in a
    # private folder outside the reports, and the report folder says only that it failed
    assert (out / "good.html").read_bytes() == before
    assert not (out / "broken.html").exists()
    failed = tmp_path / "_runs" / "out" / "failed"
    assert {p.name for p in failed.iterdir()} == {"run.json"}
    assert not (out / "failed").exists()  # the report folder holds only the last good report
    stub = json.loads((failed / "run.json").read_text())
    assert stub["status"] == "failed" and stub["outputs"] == {}
    assert "ZeroDivision" not in json.dumps(stub)
    kept = root / "failed-runs" / "broken"
    assert err.value.outcome.units[0].failed_notebook == kept / "broken.ipynb"
    assert {p.name for p in kept.iterdir()} == {"broken.ipynb", "run.json"}
    for path in (root / "failed-runs", kept, kept / "broken.ipynb", kept / "run.json"):
        assert path.stat().st_mode & 0o077 == 0, path  # owner only
    assert _no_staging_left(tmp_path)


@slow
def test_failure_while_publishing_leaves_no_partial_report(runner_project, tmp_path, monkeypatch):  # noqa: F811
    root = runner_project("good")
    out = tmp_path / "out"

    def boom(nb, folder, **kwargs):
        (folder / "tables").mkdir()
        (folder / "tables" / "half.csv").write_text("half,written\n")
        raise OSError("disk full")

    monkeypatch.setattr(publish, "write_tables", boom)
    with pytest.raises(ReportError, match="OSError: disk full"):
        run_report(root / "params" / "good.yaml", out_dir=out, progress=False)
    assert not out.exists()
    assert {p.name for p in (tmp_path / "_runs" / "out").iterdir()} == {"failed"}
    assert not list(tmp_path.rglob("*.csv")) and not list(tmp_path.rglob("*.html"))
    assert _no_staging_left(tmp_path)


@slow
def test_privacy_gate_blocks_unrestricted_pupil_list(runner_project, tmp_path):  # noqa: F811
    root = runner_project("leak")
    out = tmp_path / "out"
    with pytest.raises(ReportError, match="privacy gate") as err:
        run_report(root / "params" / "leak.yaml", out_dir=out, progress=False)
    assert "A123456789012" not in str(err.value)  # the message masks what it found
    assert "name column 'forename'" in str(err.value).lower()
    assert not (out / "leak.html").exists() and not (out / "tables").exists()


@slow
def test_restricted_report_is_published_under_restricted_and_marked(runner_project):  # noqa: F811
    root = runner_project("leak_restricted")
    outcome = run_report(root / "params" / "leak_restricted.yaml", progress=False)
    html_path = root / "reports" / "restricted" / "leak_restricted" / "leak.html"
    assert outcome.units[0].html == html_path
    html = html_path.read_text()
    assert html.index("OFFICIAL-SENSITIVE") < html.index("<main")
    audit = root / "reports" / "restricted" / "_runs" / "leak_restricted"
    assert (audit / "run.json").is_file() and (audit / "leak.ipynb").is_file()
    assert not list((root / "reports").glob("_runs"))  # nothing restricted outside restricted/


@slow
def test_run_all_fans_out_over_schools_and_one_failure_does_not_stop_others(runner_project):  # noqa: F811
    root = runner_project("good", "school", data=True)
    (root / "params" / "school_fail.yaml").write_text(
        "report: school\ntitle: School report with one failure\nfor_each: school\n"
        f"parameters:\n  data_dir: data/la\n  fail_urn: {TINY_LA_URNS[1]}\n"
    )
    reports = root / "reports"
    with pytest.raises(ReportError) as err:
        run_all(root / "params", reports_dir=reports, workers=2, progress=False)
    outcome = err.value.outcome
    status = {u.label: u.status for u in outcome.units}
    assert status == {
        "good": "ok",
        **{f"school/{urn}": "ok" for urn in TINY_LA_URNS},
        **{f"school_fail/{urn}": "ok" for urn in (TINY_LA_URNS[0], TINY_LA_URNS[2])},
        f"school_fail/{TINY_LA_URNS[1]}": "failed",
    }
    assert f"deliberate failure for school {TINY_LA_URNS[1]}" in str(err.value)
    assert "7 reports: 6 ok, 1 failed" in str(err.value)
    run = json.loads((reports / "_runs" / "school" / "100001" / "run.json").read_text())
    assert run["parameters"]["urn"] == 100001 and run["title"].endswith("Moor Lane Primary")
    assert len(run["inputs"]["fingerprint"]) == 16  # the dataset loaded once in the parent
    index = (reports / "index.html").read_text()
    assert external_loads(index) == []
    # header + one row per report: the good report, and each fan-out as one row
    assert index.count("<tr>") == 1 + 3
    assert "3 schools" in index and "1 failed" in index
    assert 'href="school/100001/school.html"' in index
    shown = BeautifulSoup(index, "html.parser").get_text()
    assert ".html" not in shown and "school_fail" not in shown  # no file or params-file names
    assert "_runs" not in index
    assert "failed/school.ipynb" not in index and "failed-runs" not in index
    assert (root / "failed-runs" / "school_fail" / "100002" / "school.ipynb").is_file()


def test_kernel_start_failure_is_retried_once(monkeypatch, tmp_path):
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs["kernel_name"])
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(executing.papermill, "execute_notebook", flaky)
    executing.execute(tmp_path / "n.ipynb", tmp_path / "o.ipynb", {}, root=tmp_path)
    assert calls == ["python3", "python3"]
    config = tmp_path / ".ipython" / "profile_default" / "ipython_kernel_config.py"
    assert config.read_text() == executing.KERNEL_CONFIG


def test_kernel_start_failing_twice_is_reported(monkeypatch, tmp_path):
    def dead(*args, **kwargs):
        raise TimeoutError("Kernel didn't respond in 60 seconds")

    monkeypatch.setattr(executing.papermill, "execute_notebook", dead)
    with pytest.raises(executing.KernelStartError, match="failed to start twice"):
        executing.execute(tmp_path / "n.ipynb", tmp_path / "o.ipynb", {}, root=tmp_path)


def test_cell_errors_are_not_retried(monkeypatch, tmp_path):
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        raise PapermillExecutionError(1, 1, "1/0", "ZeroDivisionError", "division by zero", [])

    monkeypatch.setattr(executing.papermill, "execute_notebook", failing)
    with pytest.raises(PapermillExecutionError):
        executing.execute(tmp_path / "n.ipynb", tmp_path / "o.ipynb", {}, root=tmp_path)
    assert calls == [1]


PROJECT_PARAMS = sorted(PROJECT_PARAMS_DIR.glob("*.yaml"))
PROJECT_ROOT = PROJECT_PARAMS_DIR.parent


@slow
@pytest.mark.parametrize("params_file", PROJECT_PARAMS, ids=lambda p: p.stem)
def test_project_params_run_end_to_end(params_file, project_reports):
    """Every params/*.yaml runs (via run-all) on a small synthetic LA; its tables exist, are
    privacy-clean unless restricted, and run.json lists them."""
    _, outcome = project_reports
    [report] = [r for r in outcome.reports if r.params_file == params_file.resolve()]
    assert report.ok, format_outcome(report)
    for unit in report.units:
        assert unit.html is not None and unit.html.exists()
        html = unit.html.read_text()
        assert external_loads(html) == []
        frames = {p.stem: pd.read_csv(p, dtype=str) for p in unit.tables}
        assert frames, f"{unit.label} published no tables"
        if not report.restricted:
            assert check_report(html, frames) == []
        run = json.loads((unit.notebook.parent / "run.json").read_text())
        assert unit.notebook.parent.parent.name == "_runs"
        tables = run["outputs"]["tables"]  # relative to the report folder
        assert sorted((unit.html.parent / t).resolve() for t in tables) == sorted(
            p.resolve() for p in unit.tables
        )
        assert run["audience"] == report.audience and run["period"], unit.label


def test_duckdb_memory_limit_from_the_environment(monkeypatch) -> None:
    from attendance_lib.core import sql_engines
    from attendance_lib.core.errors import UsageError

    monkeypatch.setenv(sql_engines.MEMORY_LIMIT_ENV, "700")
    con = sql_engines.duckdb_connection({})
    try:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    assert limit == "667.5 MiB"  # DuckDB shows 700 MB (10^6 bytes) in MiB
    monkeypatch.setenv(sql_engines.MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(UsageError, match="whole number of MB"):
        sql_engines.duckdb_connection({})


def _exit_unless_in(pid: int) -> int:
    """Kill the process running this unless it is ``pid`` (a publishing process that dies)."""
    if os.getpid() != pid:
        os._exit(1)
    return pid


def test_publish_pool_publishes_in_other_processes_and_in_the_caller_without_one() -> None:
    with PublishPool(2) as publisher:
        pids = {publisher(os.getpid) for _ in range(6)}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    with PublishPool(0) as publisher:
        assert publisher(os.getpid) == os.getpid()


def test_a_publishing_process_that_dies_fails_its_unit_and_leaves_the_rest_to_the_runner(
    capsys,
) -> None:
    job = functools.partial(_exit_unless_in, os.getpid())
    with PublishPool(1) as publisher:
        with pytest.raises(BrokenProcessPool):
            publisher(job)  # never published again here: it may have died half-way
        assert publisher(job) == os.getpid()  # every later unit is published here
    assert "publishing in the runner" in capsys.readouterr().err


@slow
def test_with_two_workers_every_unit_is_published_in_a_process_and_checked(
    runner_project,  # noqa: F811
    monkeypatch,
):
    in_process = []

    class Recording(PublishPool):
        def __call__(self, job):
            in_process.append(self._pool is not None)
            return super().__call__(job)

    monkeypatch.setattr(run_module, "PublishPool", Recording)
    root = runner_project("good", "leak")
    reports = root / "reports"
    with pytest.raises(ReportError, match="privacy gate") as err:
        run_all(root / "params", reports_dir=reports, workers=2, progress=False)
    assert in_process == [True, True]
    status = {u.label: u.status for u in err.value.outcome.units}
    assert status == {"good": "ok", "leak": "failed"}
    assert "A123456789012" not in str(err.value)
    assert (reports / "good" / "good.html").is_file() and not (reports / "leak").exists()
    assert (root / "failed-runs" / "leak" / "leak.ipynb").is_file()
    assert _no_staging_left(root)


@slow
def test_a_unit_whose_publishing_process_died_fails_and_leaves_nothing(runner_project, tmp_path):  # noqa: F811
    root = runner_project("good")
    spec = load_params(root / "params" / "good.yaml")
    out = tmp_path / "out"
    unit = Unit(spec, out, dict(spec.parameters), "good", "Good")

    def died(job):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    outcome = run_unit(unit, publisher=died)
    assert outcome.status == "failed" and "nothing of this run was published" in outcome.message
    assert not out.exists() and _no_staging_left(tmp_path)
