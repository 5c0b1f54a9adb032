"""Kernel-side half of the warm kernels: prepare a kernel once, reset it between notebooks.

This module runs *inside* a report kernel (:mod:`attendance_lib.runner.warm_kernels` sends
``prepare()`` once after the kernel starts and ``reset(cwd)`` before every notebook). The
notebooks do not import it and need not know about it.

- :func:`prepare` imports what every report needs (pandas, pyplot with the inline backend,
  the presentation helpers) and snapshots the state that :func:`reset` restores.
- :func:`reset` empties the user namespace (IPython's ``%reset -f``, in a new history session
  so cells are numbered from 1 again), closes every figure and
  restores matplotlib's rc settings, warning filters, environment variables, ``sys.path`` and
  the working directory, so nothing one school's notebook set can reach the next; then it
  freezes what survived (``gc.freeze()``), so the garbage collector stops walking it. Imported
  modules stay warm, and so do datasets already loaded: ``load_dataset`` remembers them per
  process (:func:`attendance_lib.contract.dataset.load_dataset`).
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from typing import Any

_snapshot: dict[str, Any] = {}


def prepare() -> None:
    """Import the common modules and snapshot the state to restore."""
    import matplotlib
    import matplotlib.pyplot as plt
    import pandas  # noqa: F401

    import attendance_lib.engine.sessions
    import attendance_lib.present.notebook  # noqa: F401

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
    # What survived the reset's collection (modules, remembered datasets) lives as long as
    # the kernel: move it out of the collector's sight, so the next reset's collection (and
    # every full collection while the next notebook runs) does not walk it again (0.2 s a
    # notebook on the demo LA). Reference cycles among these objects are then never freed;
    # a kernel is replaced after MAX_NOTEBOOKS_PER_KERNEL notebooks in any case.
    gc.freeze()
