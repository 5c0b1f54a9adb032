"""Warm kernels: one kernel per worker runs notebook after notebook without leaking state.

The kernel tests start real kernels (marked slow); the dataset memo is tested in-process.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError
from runner_fixtures import TINY_LA_URNS, runner_project, tiny_la, write_tiny_la  # noqa: F401

from attendance_lib.core.errors import ReportError
from attendance_lib.runner import execute as executing
from attendance_lib.runner import run_all, warm_kernels
from attendance_lib.runner.warm_kernels import KernelPool, WarmKernel, execute_warm

slow = pytest.mark.slow

PROBE = """\
import os, sys, warnings
import matplotlib
print(json.dumps({
    "pid": os.getpid(),
    "leftover": globals().get("leftover"),
    "linewidth": matplotlib.rcParams["lines.linewidth"],
    "env": os.environ.get("AW_LEAK"),
    "cwd": os.getcwd(),
    "path_leak": "/aw-leak" in sys.path,
    "filters": len(warnings.filters),
}))
"""
POLLUTE = """\
leftover = value
matplotlib.rcParams["lines.linewidth"] = 9.0
os.environ["AW_LEAK"] = "1"
sys.path.append("/aw-leak")
warnings.simplefilter("ignore")
os.chdir("/")
"""


def _notebook(folder: Path, name: str, *cells: str) -> Path:
    """A notebook whose first cell (tagged parameters) sets ``value`` and ``mode``."""
    params = nbformat.v4.new_code_cell('value: int = 0\nmode: str = "ok"')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(
        cells=[params, *(nbformat.v4.new_code_cell(c) for c in cells)],
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Py"}},
    )
    path = folder / "notebooks" / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _probe(output: Path) -> dict:
    """The JSON the PROBE cell printed in an executed notebook."""
    nb = nbformat.read(output, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out["text"].startswith("{"):
                return json.loads(out["text"])
    raise AssertionError(f"no probe output in {output}")


@pytest.fixture
def probe_notebook(tmp_path: Path) -> Path:
    return _notebook(tmp_path, "probe", "import json\n" + PROBE, POLLUTE)


def _run_in_pool(jobs, workers=1):
    """Run ``execute_warm`` jobs on a pool; return each result or the exception it raised."""
    results = []
    with KernelPool(workers) as pool:
        futures = [pool.submit(execute_warm, *args, **kw) for args, kw in jobs]
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:  # the test looks at it
                results.append(exc)
    return results


@slow
def test_one_kernel_runs_successive_notebooks_and_nothing_leaks(probe_notebook, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    jobs = [
        ((probe_notebook, out / f"{n}.ipynb", {"value": n}), {"root": tmp_path}) for n in (1, 2, 3)
    ]
    results = _run_in_pool(jobs)
    assert all(isinstance(r, float) for r in results), results
    seen = [_probe(out / f"{n}.ipynb") for n in (1, 2, 3)]
    assert len({s["pid"] for s in seen}) == 1  # the same kernel process: warm
    first = seen[0]
    for later in seen[1:]:  # the second and third notebooks see what the first one saw
        assert later["leftover"] is None
        assert later["linewidth"] == first["linewidth"] != 9.0
        assert later["env"] is None and later["path_leak"] is False
        assert later["filters"] == first["filters"]
        assert later["cwd"] == str(probe_notebook.parent)
    nb = nbformat.read(out / "2.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters == {"value": 2}  # injected as papermill does
    assert [c.execution_count for c in nb.cells] == [1, 2, 3, 4]


@slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_each_notebook_records_its_own_peak_memory_in_a_warm_kernel(tmp_path):
    """The kernel's high-water mark starts again for every notebook: a big one, then a
    small one in the same kernel, and the small one's peak is not the big one's."""
    notebook = _notebook(tmp_path, "memory", "blob = b'x' * (value * 2**20)\nlen(blob)")
    out = tmp_path / "out"
    out.mkdir()

    def run(mb: int) -> executing.KernelUsage:
        execute_warm(notebook, out / f"{mb}.ipynb", {"value": mb}, root=tmp_path)
        return executing.take_kernel_usage()

    with KernelPool(1) as pool:
        big, small = [pool.submit(run, mb).result() for mb in (400, 0)]
    assert big.peak_memory_mb is not None and small.peak_memory_mb is not None
    assert big.peak_memory_mb > 400 and small.peak_memory_mb < big.peak_memory_mb - 300
    assert big.cpu_seconds > 0 and small.cpu_seconds >= 0  # this notebook's, not the kernel's
    assert executing.take_kernel_usage().peak_memory_mb is None  # taken on the pool's thread


@slow
def test_a_kernel_left_holding_much_memory_is_replaced(monkeypatch, tmp_path):
    """A notebook that leaves its kernel above MAX_RESIDENT_MB (a heavy report's arrays) is
    followed by a fresh kernel; small notebooks keep theirs."""
    monkeypatch.setattr(warm_kernels, "MAX_RESIDENT_MB", 300)
    nb = _notebook(
        tmp_path,
        "holder",
        "import json, os\nblob = b'x' * (value * 2**20)",
        'print(json.dumps({"pid": os.getpid()}))',
    )
    out = tmp_path / "out"
    out.mkdir()
    sizes = [0, 400, 0, 0]
    jobs = [
        ((nb, out / f"{n}.ipynb", {"value": mb}), {"root": tmp_path}) for n, mb in enumerate(sizes)
    ]
    results = _run_in_pool(jobs)
    assert all(isinstance(r, float) for r in results), results
    pids = [_probe(out / f"{n}.ipynb")["pid"] for n in range(len(sizes))]
    assert pids[0] == pids[1]  # a small notebook keeps its kernel
    assert pids[2] != pids[1]  # the kernel that held 400 MB was replaced
    assert pids[3] == pids[2]


@slow
def test_the_executed_notebook_is_written_once_not_at_every_cell(
    monkeypatch, probe_notebook, tmp_path
):
    import papermill.engines

    writes = {"papermill": 0, "runner": 0}

    def counting(who, write):
        def counted(*args, **kwargs):
            writes[who] += 1
            return write(*args, **kwargs)

        return counted

    monkeypatch.setattr(
        papermill.engines, "write_ipynb", counting("papermill", papermill.engines.write_ipynb)
    )
    monkeypatch.setattr(warm_kernels, "write_ipynb", counting("runner", warm_kernels.write_ipynb))
    out = tmp_path / "out.ipynb"
    (result,) = _run_in_pool([((probe_notebook, out, {"value": 1}), {"root": tmp_path})])
    assert isinstance(result, float), result
    assert writes == {"papermill": 0, "runner": 1}
    assert _probe(out)["pid"] and nbformat.read(out, as_version=4).metadata.papermill.end_time


@slow
def test_a_failing_cell_raises_keeps_the_notebook_and_the_next_gets_a_fresh_kernel(tmp_path):
    nb = _notebook(
        tmp_path,
        "flaky",
        "import json\n" + PROBE,
        'if mode == "fail":\n    rate = 1 / 0',
        'if mode == "die":\n    os._exit(1)',
        'if mode == "hang":\n    import time\n    time.sleep(60)',
        'if mode == "break_reset":\n    sys.modules["attendance_lib.runner.kernel_session"] = None',
    )
    out = tmp_path / "out"
    out.mkdir()
    modes = ["ok", "fail", "ok", "die", "ok", "hang", "ok", "break_reset", "ok"]
    jobs = [
        ((nb, out / f"{n}.ipynb", {"mode": m}), {"root": tmp_path, "cell_timeout": 3})
        for n, m in enumerate(modes)
    ]
    results = _run_in_pool(jobs)
    assert isinstance(results[1], PapermillExecutionError)
    failure = executing.describe_failure(results[1])
    assert "ZeroDivisionError: division by zero" in failure.error
    assert "-->   2 |     rate = 1 / 0" in failure.excerpt
    kept = (out / "1.ipynb").read_text()
    assert "ZeroDivisionError" in kept and "papermill-error-cell" in kept
    assert not isinstance(results[3], float | PapermillExecutionError)  # the kernel died
    assert not isinstance(results[5], float | PapermillExecutionError)  # the cell timed out
    assert "timed out" in str(results[5]).lower() or "timeout" in type(results[5]).__name__.lower()
    for n in (3, 5):  # the notebook as far as it ran is kept all the same
        assert _probe(out / f"{n}.ipynb")["pid"]
    for n in (0, 2, 4, 6, 7, 8):
        assert isinstance(results[n], float), results[n]
    pids = [_probe(out / f"{n}.ipynb")["pid"] for n in (0, 2, 4, 6, 7, 8)]
    assert len(set(pids[:4])) == 4  # a fresh kernel after each failure
    assert pids[4] == pids[3] != pids[5]  # a kernel that cannot be reset is replaced


def test_kernel_start_is_retried_once_then_reported(monkeypatch, tmp_path):
    calls = []

    async def failing_start(self):
        calls.append(1)
        raise RuntimeError("Kernel didn't respond in 60 seconds")

    monkeypatch.setattr(WarmKernel, "_start", failing_start)
    kernel = WarmKernel(tmp_path, tmp_path)
    with pytest.raises(executing.KernelStartError, match="failed to start twice"):
        kernel.start()
    assert len(calls) == 2 and kernel.kc is None
    assert (tmp_path / ".ipython" / "profile_default" / "ipython_kernel_config.py").is_file()


def test_kernel_start_failing_once_then_working_starts(monkeypatch, tmp_path):
    calls = []

    async def flaky_start(self):
        calls.append(1)
        if len(calls) == 1:
            raise TimeoutError("kernel start timed out")

    monkeypatch.setattr(WarmKernel, "_start", flaky_start)
    kernel = WarmKernel(tmp_path, tmp_path)
    kernel.start()
    assert len(calls) == 2 and kernel.starts == 1


def test_execute_warm_off_a_pool_thread_uses_a_fresh_papermill_run(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(executing, "execute", lambda *a, **kw: seen.append((a, kw)) or 1.5)
    assert execute_warm(tmp_path / "n.ipynb", tmp_path / "o.ipynb", {}, root=tmp_path) == 1.5
    assert seen and seen[0][1]["root"] == tmp_path


def test_kernel_pool_returns_results_and_exceptions_as_futures():
    with KernelPool(2) as pool:
        ok = pool.submit(lambda x: x * 2, 21)
        bad = pool.submit(lambda: 1 / 0)
        assert ok.result(timeout=10) == 42
        with pytest.raises(ZeroDivisionError):
            bad.result(timeout=10)
    assert warm_kernels.current_kernel(Path("."), Path(".")) is None  # not a pool thread


def test_kernel_pool_cancels_queued_work_when_the_block_raises():
    started, gate = threading.Event(), threading.Event()

    def blocking():
        started.set()
        return gate.wait(10)

    with pytest.raises(KeyboardInterrupt), KernelPool(1) as pool:
        running = pool.submit(blocking)
        queued = pool.submit(lambda: "ran")
        assert started.wait(10)
        threading.Timer(0.3, gate.set).start()  # let the running task finish after the raise
        raise KeyboardInterrupt
    assert running.result() is True
    assert queued.cancelled()


# --------------------------------------------------------------------------------------
# The runner end to end: warm and fresh kernels publish the same reports
# --------------------------------------------------------------------------------------


def _shown(notebook: Path) -> list[str]:
    """The sentences (``present.say``) a notebook displayed."""
    nb = nbformat.read(notebook, as_version=4)
    return [
        "".join(out["data"]["text/html"])
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "display_data"
        and 'class="aw-say"' in "".join(out["data"].get("text/html", ""))
    ]


@slow
def test_warm_and_fresh_kernels_publish_the_same_fan_out(runner_project):  # noqa: F811
    root = runner_project("school", data=True)
    (root / "params" / "school_fail.yaml").write_text(
        "report: school\ntitle: School report with one failure\nfor_each: school\n"
        f"parameters:\n  data_dir: data/la\n  fail_urn: {TINY_LA_URNS[0]}\n"
    )
    outcomes, notebooks = {}, {}
    for warm in (True, False):
        reports = root / f"reports_{warm}"
        with pytest.raises(ReportError) as err:
            run_all(root / "params", reports_dir=reports, workers=2, progress=False, warm=warm)
        outcomes[warm] = {u.label: u.status for u in err.value.outcome.units}
        said = err.value.outcome.workers  # what run-all prints: the workers and why
        assert said.startswith("2 workers (as asked; ") and "GB per worker); DuckDB limited" in said
        assert f"ran on {said}" in str(err.value)
        notebooks[warm] = {u.label: u.notebook for u in err.value.outcome.units}
    assert outcomes[True] == outcomes[False]
    assert outcomes[True][f"school_fail/{TINY_LA_URNS[0]}"] == "failed"
    assert list(outcomes[True].values()).count("ok") == 5
    for urn in TINY_LA_URNS:
        warm_nb, fresh_nb = notebooks[True][f"school/{urn}"], notebooks[False][f"school/{urn}"]
        assert warm_nb.parent.parent.parent.name == "_runs"  # the audit folder, not the report's
        assert _shown(warm_nb) == _shown(fresh_nb) != []
