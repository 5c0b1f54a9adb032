"""Kernel-side half of the warm kernels: prepare a kernel once, reset it between notebooks.

This module runs *inside* a report kernel (:mod:`attendance_lib.runner.warm_kernels` sends
``prepare()`` once after the kernel starts and ``reset(cwd)`` before every notebook). The
notebooks do not import it and need not know about it.

- :func:`prepare` imports what every report needs (pandas, pyplot with the inline backend,
  the presentation helpers), installs :func:`memoised_load_dataset` as
  ``attendance_lib.contract.load_dataset`` and snapshots the state that :func:`reset` restores.
- :func:`reset` empties the user namespace (IPython's ``%reset -f``, in a new history session
  so cells are numbered from 1 again), closes every figure and
  restores matplotlib's rc settings, warning filters, environment variables, ``sys.path`` and
  the working directory, so nothing one school's notebook set can reach the next. Imported
  modules, and datasets already loaded, stay warm.
- :func:`memoised_load_dataset` keeps the datasets this kernel loaded, keyed by folder and the
  size and modification time of every file in it; each call returns a shallow copy (pandas
  copy-on-write), so a notebook that changes a table changes only its own copy.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

#: Datasets a kernel keeps loaded (least recently used dropped first).
MAX_DATASETS = 2

_memo: OrderedDict[tuple, Any] = OrderedDict()
_original_load_dataset = None
_snapshot: dict[str, Any] = {}


def folder_signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time (ns) of every file directly in ``root``, sorted."""
    return tuple(
        sorted(
            (entry.name, st.st_size, st.st_mtime_ns)
            for entry in os.scandir(root)
            if entry.is_file() and (st := entry.stat())
        )
    )


def _copy_dataset(ds):
    """A copy of a Dataset sharing the data: shallow DataFrame copies (copy-on-write)."""
    changes = {
        f.name: getattr(ds, f.name).copy(deep=False)
        for f in dataclasses.fields(ds)
        if hasattr(getattr(ds, f.name), "copy") and hasattr(getattr(ds, f.name), "columns")
    }
    changes["files"] = dict(ds.files)
    changes["warnings"] = list(ds.warnings)
    return dataclasses.replace(ds, **changes)


def memoised_load_dataset(data_dir: str | Path, *, validate: bool = True):
    """:func:`attendance_lib.contract.load_dataset`, loaded once per folder state in this process.

    The key is the resolved folder, ``validate`` and :func:`folder_signature`: replacing or
    editing any file in the folder loads it again (and so recomputes the fingerprint). Errors
    are not memoised.
    """
    from attendance_lib import contract

    load = _original_load_dataset or contract.load_dataset
    root = Path(data_dir)
    if not root.is_dir():
        return load(data_dir, validate=validate)
    key = (str(root.resolve()), validate, folder_signature(root))
    if key not in _memo:
        _memo[key] = load(data_dir, validate=validate)
        while len(_memo) > MAX_DATASETS:
            _memo.popitem(last=False)
    _memo.move_to_end(key)
    return _copy_dataset(_memo[key])


def install_dataset_memo() -> None:
    """Make ``attendance_lib.contract.load_dataset`` the memoised version (idempotent)."""
    global _original_load_dataset
    from attendance_lib import contract

    if _original_load_dataset is None:
        _original_load_dataset = contract.load_dataset
    contract.load_dataset = memoised_load_dataset


def prepare() -> None:
    """Import the common modules, install the dataset memo, snapshot the state to restore."""
    install_dataset_memo()
    import matplotlib
    import matplotlib.pyplot as plt
    import pandas  # noqa: F401

    import attendance_lib.engine
    import attendance_lib.present  # noqa: F401

    plt.close(plt.figure())  # activate the inline backend now, so its rc settings are in place
    _snapshot.update(
        rc=matplotlib.rcParams.copy(),
        filters=list(warnings.filters),
        environ=dict(os.environ),
        path=list(sys.path),
    )


def reset(cwd: str) -> None:
    """Empty the user namespace and restore the state :func:`prepare` saw; ``chdir(cwd)``."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        # %reset -f (namespace, In/Out, _ variables) plus a new history session, so the
        # next notebook's cells are numbered from 1 again, as in a fresh kernel
        shell.reset(new_session=True)
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib

        sys.modules["matplotlib.pyplot"].close("all")
        if "rc" in _snapshot:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                matplotlib.rcParams.update(_snapshot["rc"])
    if "filters" in _snapshot:
        warnings.filters[:] = _snapshot["filters"]
        getattr(warnings, "_filters_mutated", lambda: None)()
    if "environ" in _snapshot:
        for name in set(os.environ) - set(_snapshot["environ"]):
            del os.environ[name]
        os.environ.update(_snapshot["environ"])
    if "path" in _snapshot:
        sys.path[:] = _snapshot["path"]
    os.chdir(cwd)
