"""A local authority's extract as one object: :class:`Dataset` and :func:`load_dataset`.

:func:`load_dataset` is the one way the rest of the workbench reads data. It reads every
table with :mod:`attendance_lib.contract.reading`, validates the folder with
:mod:`attendance_lib.contract.validation` once per data fingerprint (SHA-256 over every file) and
remembers that in a cache folder, so fanned-out reports do not validate the same 28 million
marks again. Derived tables (the code cube) are cached beside it; the cache folder is also
keyed by the workbench's own code, so an upgrade never trusts an older version's results. Once a folder's validation
is remembered, each table is read when first used, so a command that needs only the marks
(such as ``summarise``) never parses pupils.csv.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import pickle
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow.dataset as pads

from attendance_lib.contract.reading import (
    TABLES,
    ProblemLog,
    filter_marks,
    find_table_file,
    missing_required_tables,
    read_marks,
    read_table,
)
from attendance_lib.contract.validation import collapse_duplicate_marks, validate_dataset
from attendance_lib.core.errors import DataError, UsageError
from attendance_lib.core.files import write_atomically

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

T = TypeVar("T")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 4 MB blocks.

    For a directory (partitioned Parquet), the digest covers every file's relative path and
    bytes, in sorted order.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode())
        with file.open("rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()


#: The workbench's package folder (``attendance_lib``), whose whole source keys the cache.
PACKAGE_FOLDER = Path(__file__).resolve().parent.parent


@functools.cache
def code_digest() -> str:
    """12 hex characters of a SHA-256 over the whole package's Python source
    (:func:`source_digest` of :data:`PACKAGE_FOLDER`, every layer, not only this one).

    Part of every cache folder's name, so results remembered by one version of the workbench
    (a validation verdict, a cube, a school pack's reference tables, an analysis's cached
    result) are never reused by another whose rules or definitions differ.
    """
    return source_digest(PACKAGE_FOLDER)


def source_digest(folder: Path) -> str:
    """12 hex characters of a SHA-256 over every ``.py`` file under ``folder``, subfolders
    included: each file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*.py")):
        digest.update(file.relative_to(folder).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


#: The marks laid out by school in a dataset's cache folder (:meth:`Dataset.cache_marks_by_school`).
MARKS_BY_SCHOOL = "marks_by_school.parquet"


def cache_folder(fingerprint: str) -> Path:
    """Where results for one data fingerprint are kept, for this version of the code."""
    return cache_root() / f"{fingerprint}-{code_digest()}"


def cache_root() -> Path:
    """Where derived tables are cached: ``$ATTENDANCE_WORKBENCH_CACHE`` or ``~/.cache/attendance-workbench``."""
    env = os.environ.get("ATTENDANCE_WORKBENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "attendance-workbench"


#: A cache folder's name: 16 hex characters of fingerprint, a dash, 12 of code digest.
_CACHE_FOLDER_NAME = re.compile(r"[0-9a-f]{16}-[0-9a-f]{12}")


def private_cache_folder(fingerprint: str) -> Path:
    """:func:`cache_folder`, created readable by its owner only (0700, and the cache root too).

    The cache holds pupil-level tables (the code cube), so no other user may list or read it.
    """
    folder = cache_folder(fingerprint)
    for path in (folder.parent, folder):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            if path.stat().st_mode & 0o777 != 0o700:
                path.chmod(0o700)
        except OSError:
            if path == folder:  # a shared root set by the user may belong to someone else
                raise
    return folder


def _write_private(path: Path, write: Callable[[Path], object]) -> None:
    """Write a cache file atomically, then make it readable by its owner only (0600)."""
    write_atomically(path, write)
    path.chmod(0o600)


def clear_cache(older_than_days: float | None = None) -> tuple[int, int]:
    """Remove cache folders: all of them, or those not used for ``older_than_days`` days.

    Only folders named like a cache folder are touched. Returns (folders removed, bytes freed).
    """
    root = cache_root()
    if not root.is_dir():
        return 0, 0
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    removed = freed = 0
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not _CACHE_FOLDER_NAME.fullmatch(folder.name):
            continue
        files = [p for p in folder.rglob("*") if p.is_file()]
        last_used = max((p.stat().st_mtime for p in files), default=folder.stat().st_mtime)
        if cutoff is not None and last_used >= cutoff:
            continue
        freed += sum(p.stat().st_size for p in files)
        shutil.rmtree(folder)
        removed += 1
    return removed, freed


class _TableFiles:
    """The folder's tables other than marks, each read and typed on first use, then kept.

    Shared by a remembered dataset and every copy handed out, so a process reads each file
    once; each caller gets its own shallow copy (pandas copy-on-write). ``typed``: the folder
    is valid, so required int and bool columns get plain NumPy types and a problem reading a
    file (changed since it was validated) is an error.
    """

    def __init__(self, paths: dict[str, Path | None], *, typed: bool) -> None:
        self.paths = paths
        self.typed = typed
        self.frames: dict[str, pd.DataFrame | None] = {}

    def keep(self, name: str, frame: pd.DataFrame | None) -> None:
        """Remember a table already read (validation reads them all first)."""
        self.frames[name] = _finalise_types(name, frame) if self.typed else frame

    def read(self, name: str) -> pd.DataFrame | None:
        """The table ``name`` (a shallow copy), read from its file the first time."""
        if name not in self.frames:
            path = self.paths.get(name)
            log = ProblemLog()
            frame = None if path is None else read_table(path, TABLES[name], log)
            if log.problems and self.typed:
                raise DataError(log.problems)
            self.keep(name, frame)
        frame = self.frames[name]
        return None if frame is None else frame.copy(deep=False)


class _Table:
    """A :class:`Dataset` attribute holding one table, read on first use."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, ds: Dataset | None, owner: type | None = None) -> pd.DataFrame | None:
        if ds is None:
            return self  # type: ignore[return-value]
        if self.name not in ds._frames:
            ds._frames[self.name] = ds._tables.read(self.name)
        return ds._frames[self.name]


@dataclass
class Dataset:
    """One local authority's validated extract.

    Tables are pandas DataFrames with contract column names and types: ``schools``, ``pupils``
    and ``calendar``, and the optional ``absence_terms``, ``ks2``, ``ks4``, ``services``,
    ``interventions``, ``benchmarks`` and ``weekly`` (``None`` when absent from the folder). Each is read
    on first use; so is ``marks``, which can also be read in part (:meth:`marks_for`) or left
    in its Parquet file for the engines.
    """

    root: Path
    _tables: _TableFiles = field(repr=False)
    files: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    warnings: list[str] = field(default_factory=list)
    marks_path: Path | None = None
    #: Validation proved the Parquet marks can be read as stored (nothing to collapse or
    #: trim), so the engines read the file directly instead of loading it into pandas.
    marks_as_stored: bool = False
    _marks: pd.DataFrame | None = field(default=None, repr=False)
    _frames: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    schools = _Table()
    pupils = _Table()
    calendar = _Table()
    absence_terms = _Table()
    ks2 = _Table()
    ks4 = _Table()
    services = _Table()
    interventions = _Table()
    benchmarks = _Table()
    #: Sessions per enrolment per week (imported DfE weekly files), when there are no marks.
    weekly = _Table()

    @property
    def marks(self) -> pd.DataFrame | None:
        """All register marks (identical duplicates collapsed), read on first use."""
        if self._marks is None and self.marks_path is not None:
            self._marks = self.marks_for()
        return self._marks

    def marks_for(
        self,
        *,
        urns=None,
        upns=None,
        start=None,
        end=None,
    ) -> pd.DataFrame | None:
        """Marks for some schools, pupils or dates (both ends inclusive), read with filters.

        Parquet files are filtered while reading, so one school's marks do not need the
        whole file in memory; once :meth:`cache_marks_by_school` has laid the marks out by
        school in the cache, a selection by ``urns`` reads only those schools' files (the
        same marks, in the same order). Identical duplicate rows are collapsed as in
        validation. The
        columns have their canonical types whatever the file stores
        (:func:`~attendance_lib.contract.reading.read_marks`): text or time-zone-aware dates
        come back as naive ``datetime64[s]`` midnights, URNs as int32.
        """
        if self.marks_path is None:
            return None
        selection = {"urns": urns, "upns": upns, "start": start, "end": end}
        if self._marks is not None:
            return filter_marks(self._marks, **selection)
        log = ProblemLog()
        path = self.marks_path
        if urns is not None and self._marks_sliceable:
            by_school = self.cache_dir / MARKS_BY_SCHOOL
            path = by_school if by_school.is_dir() else path
        frame = read_marks(path, log, **selection)
        if log.problems or frame is None:
            raise DataError(log.problems)
        frame, _ = collapse_duplicate_marks(frame, self.marks_path.name, ProblemLog())
        return frame

    @property
    def _marks_sliceable(self) -> bool:
        """One validated Parquet marks file, read as stored: a by-school copy reads the same."""
        path = self.marks_path
        return bool(
            self.marks_as_stored and self.fingerprint and path is not None and path.is_file()
        )

    def cache_marks_by_school(self) -> Path | None:
        """Lay the marks out by school (hive folders ``urn=...``) in this dataset's cache.

        Once per data fingerprint and code version; after it, :meth:`marks_for` with ``urns``
        (a school's pack) reads only that school's files instead of filtering the LA's whole
        file. The marks keep their order within each school, so every table computed from
        them is unchanged. Written beside its final name and renamed into place (another
        process doing the same at the same time is harmless), readable by the owner only.
        Returns the folder, or None when the marks are not one validated Parquet file.
        """
        if not self._marks_sliceable:
            return None
        path = self.cache_dir / MARKS_BY_SCHOOL
        if path.is_dir():
            return path
        from attendance_lib.contract.partitioning import write_partitioned_marks

        folder = private_cache_folder(self.fingerprint)
        building = folder / f".{MARKS_BY_SCHOOL}.build-{os.getpid()}-{threading.get_ident()}"
        try:
            write_partitioned_marks(self.marks_path, building, by=("urn",), preserve_order=True)
            for item in [building, *building.rglob("*")]:
                item.chmod(0o700 if item.is_dir() else 0o600)
            building.rename(path)
        except OSError:
            if not path.is_dir():  # not another process's copy arriving first
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return path

    def count_marks(self) -> int | None:
        """How many marks (after collapsing identical duplicates), without loading them when it can."""
        if self.marks_path is None:
            return None
        if self._marks is None and self.marks_as_stored:
            return pads.dataset(self.marks_path, format="parquet", partitioning="hive").count_rows()
        return len(self.marks)

    @property
    def cache_dir(self) -> Path:
        """This dataset's cache folder (one per data fingerprint and version of the code)."""
        return cache_folder(self.fingerprint)

    def cached(self, name: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Return the table ``name`` from the cache, computing and storing it if absent.

        Keyed by the data fingerprint and the code (:func:`code_digest`), so neither a changed
        extract nor a changed workbench reuses stale results.
        Written atomically, so parallel report runs never read a half-written file. Computed
        once: a lock file beside it is held while computing, so a second report asking for the
        same table at the same time (``run-all``'s other worker, say, both wanting the code
        cube) waits and reads it instead of computing it again beside the first.
        """
        path = self.cache_dir / f"{name}.parquet"
        if not path.is_file():
            folder = private_cache_folder(self.fingerprint)
            with _exclusive(folder / f".{name}.lock"):
                if not path.is_file():
                    frame = compute()
                    _write_private(path, lambda tmp: frame.to_parquet(tmp, index=False))
                    return frame
        frame = pd.read_parquet(path)
        os.utime(path)  # last used now: ``cache --older-than`` keeps what is in use
        return frame

    def cached_result(self, name: str, key: dict, compute: Callable[[], T]) -> T:
        """Return the result ``name`` for ``key`` from the cache, computing it once if absent.

        For an analysis's intermediate results (frames whose exact pandas types must come
        back as they were, so a report reading them publishes the same figures as one that
        computed them), shared by the reports that need them: the public and restricted
        versions of a report, run at the same time by ``run-all``.

        - Keyed by the data fingerprint and the code (the cache folder), and by ``name`` and
          ``key`` (the analysis's parameters, as JSON): a change of data, code or parameter
          never serves a stale result.
        - Computed once: a lock file beside the result is held while computing, so a second
          process asking for it waits, then reads what the first wrote (on platforms without
          ``fcntl`` both may compute; each write is atomic).
        - Stored with :mod:`pickle` (exact types, attrs included) in this dataset's private
          cache folder (0700, files 0600): only its owner can write what is read back.
        """
        folder = private_cache_folder(self.fingerprint)
        stem = _result_stem(name, key)
        path = folder / f"{stem}.pickle"
        with _exclusive(folder / f".{stem}.lock"):
            if path.is_file():
                return _read_pickle(path)
            value = compute()
            _write_pickle(path, value)
            return value

    def cached_part(
        self, name: str, key: dict, part: str, compute: Callable[[], Mapping[str, T]]
    ) -> T | None:
        """Return one part (a school's, say) of a result computed for every part at once.

        As :meth:`cached_result` (keyed by data, code, ``name`` and ``key``; computed once,
        under a lock; private pickles), but ``compute`` gives every part (``{part: value}``)
        and each is stored on its own, in a folder for ``name`` and ``key``: a school's pack
        reads its own part, never the whole LA's. None when ``compute`` gave no such part.
        """
        folder = private_cache_folder(self.fingerprint)
        stem = _result_stem(name, key)
        parts = folder / stem
        complete = parts / ".complete"
        if not complete.is_file():
            with _exclusive(folder / f".{stem}.lock"):
                if not complete.is_file():
                    values = compute()
                    parts.mkdir(mode=0o700, exist_ok=True)
                    for label, value in values.items():
                        _write_pickle(parts / f"{label}.pickle", value)
                    _write_private(complete, lambda tmp: tmp.write_bytes(b""))
                    return values.get(part)
        path = parts / f"{part}.pickle"
        return _read_pickle(path) if path.is_file() else None


def _result_stem(name: str, key: dict) -> str:
    """The file name (without suffix) of a cached result: ``name`` and a digest of ``key``."""
    text = json.dumps({"name": name, **key}, sort_keys=True, default=str)
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _read_pickle(path: Path) -> Any:
    """A cached result, marked as used now (``cache --older-than`` keeps what is in use)."""
    with path.open("rb") as fh:
        value = pickle.load(fh)
    os.utime(path)
    return value


def _write_pickle(path: Path, value: Any) -> None:
    _write_private(path, lambda tmp: tmp.write_bytes(pickle.dumps(value, protocol=5)))


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` (created 0600) while the block runs."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _fingerprint(files: dict[str, str]) -> str:
    text = json.dumps(sorted(files.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _finalise_types(name: str, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Required int and bool columns hold no gaps once valid: give them plain NumPy types."""
    if frame is None:
        return None
    for col in TABLES[name].columns:
        if col.nullable or col.name not in frame:
            continue
        if col.kind == "int":
            frame[col.name] = frame[col.name].astype("int64")
        elif col.kind == "bool":
            frame[col.name] = frame[col.name].astype(bool)
    return frame


#: Datasets one process keeps loaded (least recently used dropped first).
MEMO_SIZE = 2
_memo: OrderedDict[tuple, Dataset] = OrderedDict()


def folder_signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Relative path, size and modification time (ns) of every file under ``root``, sorted."""
    return tuple(
        sorted(
            (p.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns)
            for p in root.rglob("*")
            if p.is_file() and (st := p.stat())
        )
    )


def _copy_dataset(ds: Dataset) -> Dataset:
    """A copy sharing the data: tables come from the same :class:`_TableFiles`, marks shallowly."""
    marks = None if ds._marks is None else ds._marks.copy(deep=False)
    return dataclasses.replace(
        ds, _marks=marks, _frames={}, files=dict(ds.files), warnings=list(ds.warnings)
    )


def load_dataset(data_dir: str | Path, *, validate: bool = True, progress: bool = False) -> Dataset:
    """Read (and by default validate) a data folder laid out as the data contract says.

    A process keeps the last :data:`MEMO_SIZE` datasets it loaded, keyed by the folder and the
    size and modification time of every file in it, so a report kernel that runs one notebook
    after another (the runner's warm kernels) reads each extract once. Each call returns its
    own shallow copy: a notebook that changes a table changes only its copy. Editing any file
    loads the folder afresh; errors are never remembered. Parameters and errors are those of
    :func:`read_dataset`.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise UsageError(f"data folder {str(root)!r} does not exist")
    key = (str(root.resolve()), validate, str(cache_root()), folder_signature(root))
    if key not in _memo:
        _memo[key] = read_dataset(root, validate=validate, progress=progress)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    _memo.move_to_end(key)
    return _copy_dataset(_memo[key])


def read_dataset(data_dir: str | Path, *, validate: bool = True, progress: bool = False) -> Dataset:
    """Read (and by default validate) a data folder laid out as the data contract says.

    Parameters
    ----------
    data_dir
        The folder holding ``schools``, ``pupils``, ``calendar`` and ``marks`` (CSV or
        Parquet), and any optional tables.
    validate
        Run every validation rule (:mod:`attendance_lib.contract.validation`). A folder already
        validated with the same fingerprint is not validated again.
    progress
        Show a progress bar while validating (for terminals).

    Raises
    ------
    UsageError
        The folder does not exist.
    DataError
        The folder breaks the contract; ``.problems`` lists every problem found.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise UsageError(f"data folder {str(root)!r} does not exist")
    paths = {name: find_table_file(root, name) for name in TABLES}
    log = ProblemLog()
    for name in missing_required_tables(paths):
        log.add(f"{name}.csv", None, None, f"required table is missing from {root}")
    if log.problems:
        raise DataError(log.problems)
    files = {p.name: file_sha256(p) for p in paths.values() if p is not None}
    fingerprint = _fingerprint(files)
    stamp = cache_folder(fingerprint) / "validated.json"
    tables = _TableFiles({n: p for n, p in paths.items() if n != "marks"}, typed=validate)
    ds = Dataset(
        root=root, _tables=tables, files=files, fingerprint=fingerprint, marks_path=paths["marks"]
    )
    if not validate:
        return ds
    if stamp.is_file():  # validated before, by this version of the code
        remembered = json.loads(stamp.read_text())
        ds.warnings = remembered["warnings"]
        ds.marks_as_stored = remembered["marks_as_stored"]
        return ds
    frames = {
        name: None if path is None else read_table(path, TABLES[name], log)
        for name, path in tables.paths.items()
    }
    checked = validate_dataset(frames, paths, log, progress=progress)
    if checked is not None:
        ds._marks, ds.marks_as_stored = checked.marks, checked.as_stored
    if log.problems:
        raise DataError(log.problems, log.warnings)
    ds.warnings = log.warnings
    for name, frame in frames.items():
        tables.keep(name, frame)
    private_cache_folder(fingerprint)
    remembered = {"warnings": log.warnings, "files": files, "marks_as_stored": ds.marks_as_stored}
    _write_private(stamp, lambda tmp: tmp.write_text(json.dumps(remembered)))
    return ds
