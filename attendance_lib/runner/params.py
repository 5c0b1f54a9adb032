"""Parameter files (``params/*.yaml``): load, check against the notebook, apply overrides.

A parameter file names a report notebook and the values papermill injects into its cell
tagged ``parameters``::

    report: ks_attainment_by_attendance   # notebooks/<report>.ipynb
    title: KS2 outcomes by attendance band, 2023/24
    description: How KS2 results fall with attendance, by attendance band   # the index's line
    audience: public                      # public | school | restricted
    for_each: null                        # or: school -> one report per school (parameter urn)
    parameters:
      data_dir: data/demo
      academic_year: 2023/24

Papermill only warns about a parameter the notebook does not declare; here it is an error
(:class:`~attendance_lib.core.errors.UsageError`) naming the key, as is any unknown top-level key.

``audience`` is declared once, at the top: the runner decides from it where the report goes
and what it checks, and injects it as the notebook parameter ``audience`` (a ``str``) when
the notebook declares one. The old top-level ``restricted: true|false`` (and a notebook
parameter ``restricted``) is refused with a message saying what to write instead, so an old
file can never run as a different audience than meant.
"""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import papermill
import yaml

from attendance_lib.core.errors import UsageError
from attendance_lib.present.disclosure import DEFAULT_THRESHOLD

#: Top-level keys a parameter file may hold.
ALLOWED_KEYS = ("report", "title", "description", "audience", "for_each", "parameters")
#: Who a report is for. ``public``: anyone (full disclosure control, no pupil identifiers);
#: ``school``: one school's own pack (no pupil identifiers, marked OFFICIAL on every page);
#: ``restricted``: pupil identifiers (written only under ``reports/restricted/``, marked
#: OFFICIAL-SENSITIVE on every page, never linked from the public index).
AUDIENCES = ("public", "school", "restricted")
#: Who each audience is, in readers' words (the index and the workbook's notes).
AUDIENCE_WORDS = {
    "public": "Anyone",
    "school": "The school and the local authority (OFFICIAL)",
    "restricted": "Named staff only: identifies pupils (OFFICIAL-SENSITIVE)",
}
#: The notebook parameter the runner sets from the top-level ``audience`` key.
AUDIENCE_PARAMETER = "audience"
#: The retired key (top level and notebook parameter) that ``audience`` replaces.
RETIRED_RESTRICTED_KEY = "restricted"
#: Values ``for_each`` may take (``None`` = one report).
FOR_EACH_VALUES = (None, "school")
#: The parameter the runner sets for each school when ``for_each: school``.
SCHOOL_PARAMETER = "urn"
#: The parameter naming the data folder (resolved against the project root).
DATA_DIR_PARAMETER = "data_dir"
#: Parameters holding paths: given in a params file or --set, they are relative to the
#: project root and injected as absolute paths (the kernel runs in notebooks/).
PATH_PARAMETERS = (DATA_DIR_PARAMETER, "targets")
PARAMETERS_TAG = "parameters"
#: The parameter setting small-number suppression, and its floor in a public report.
SUPPRESSION_PARAMETER = "suppress_below"
MIN_SUPPRESSION = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class ReportSpec:
    """One checked parameter file, ready to run.

    Attributes
    ----------
    path, stem
        The parameter file and its stem (the default output folder name).
    root
        The project root: the folder holding ``notebooks/``.
    notebook
        ``<root>/notebooks/<report>.ipynb``.
    parameters
        The values to inject, typed as the notebook declares them (file values then overrides).
    declared
        ``papermill.inspect_notebook()`` for the notebook: name -> {inferred_type_name, default, help}.
    data_dir
        The data folder as an absolute path: from ``parameters`` (relative to the project
        root) or the notebook's default (relative to ``notebooks/``); ``None`` when the
        notebook has no ``data_dir`` parameter.
    """

    path: Path
    stem: str
    root: Path
    report: str
    title: str
    audience: str
    for_each: str | None
    notebook: Path
    parameters: dict[str, Any]
    declared: dict[str, dict[str, Any]] = field(repr=False)
    data_dir: Path | None = None
    description: str = ""

    @property
    def restricted(self) -> bool:
        """The report may hold pupil identifiers (``audience: restricted``)."""
        return self.audience == "restricted"


def find_project_root(params_path: Path, report: str) -> Path:
    """The folder holding ``notebooks/<report>.ipynb``: the params file's parent's parent, else cwd."""
    candidate = params_path.resolve().parent.parent
    if (candidate / "notebooks" / f"{report}.ipynb").is_file():
        return candidate
    return Path.cwd().resolve()


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(f"{path}: parameter file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of keys (report, title, parameters, ...)")
    return data


def _base_type(type_name: str) -> str:
    """``list[str]`` -> ``list``; ``Optional[int]`` -> ``int``; unknown -> ``""``."""
    name = type_name.strip()
    if name.startswith("Optional[") and name.endswith("]"):
        name = name[len("Optional[") : -1]
    name = name.split("[", 1)[0].strip().lower()
    return name if name in {"int", "float", "bool", "str", "list", "dict"} else ""


def coerce_value(value: Any, type_name: str, where: str) -> Any:
    """Check ``value`` (already parsed from YAML) against a declared type; return it typed.

    Raises
    ------
    UsageError
        Naming ``where`` (the key) when the value does not fit the declared type.
    """
    base = _base_type(type_name)
    if value is None and type_name.startswith("Optional["):
        return None
    ok = True
    if base == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif base == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif base == "bool":
        ok = isinstance(value, bool)
    elif base == "str":
        if isinstance(value, dt.date):  # YAML reads 2024-09-01 as a date
            value = value.isoformat()
        ok = isinstance(value, str)
    elif base == "list":
        ok = isinstance(value, list)
    elif base == "dict":
        ok = isinstance(value, dict)
    if not ok:
        raise UsageError(
            f"{where}: expected {type_name}, got {type(value).__name__} {value!r}"
            + (" (quote it in the YAML file)" if base == "str" else "")
        )
    return value


def parse_override(text: str, type_name: str, where: str) -> Any:
    """Convert a ``--set name=value`` string with the notebook's declared type.

    ``str`` parameters take the text as it is; other types go through ``yaml.safe_load``
    (so ``3``, ``1.5``, ``true``, ``[a, b]`` work); a ``list`` may also be given as ``a,b``.
    """
    base = _base_type(type_name)
    if base == "str":
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{where}: cannot read {text!r} as {type_name}: {exc}") from exc
    if base == "list" and not isinstance(value, list):
        value = [yaml.safe_load(part.strip()) for part in text.split(",") if part.strip()]
    return coerce_value(value, type_name, where)


def _notebook_default(declared: dict[str, Any], name: str) -> Any:
    try:
        return ast.literal_eval(declared[name]["default"])
    except (KeyError, ValueError, SyntaxError):
        return None


def _kernel_name(notebook: Path) -> str | None:
    nb = papermill.iorw.load_notebook_node(str(notebook))
    return (nb.metadata.get("kernelspec") or {}).get("name")


def _has_parameters_cell(notebook: Path) -> bool:
    nb = papermill.iorw.load_notebook_node(str(notebook))
    return any(PARAMETERS_TAG in c.get("metadata", {}).get("tags", []) for c in nb.cells)


def _check_suppression(
    path: Path, audience: str, parameters: dict[str, Any], declared: dict[str, Any]
) -> None:
    """A public report never lowers suppression below the library's minimum."""
    if audience != "public" or SUPPRESSION_PARAMETER not in declared:
        return
    value = parameters.get(
        SUPPRESSION_PARAMETER, _notebook_default(declared, SUPPRESSION_PARAMETER)
    )
    if isinstance(value, int | float) and not isinstance(value, bool) and value < MIN_SUPPRESSION:
        raise UsageError(
            f"{path}: key 'parameters.{SUPPRESSION_PARAMETER}': {value!r} is below the minimum "
            f"of {MIN_SUPPRESSION} for a public report (small numbers could identify pupils); "
            "use audience: school or audience: restricted for a report that may show them"
        )


def load_params(params_path: str | Path, overrides: dict[str, str] | None = None) -> ReportSpec:
    """Read and check one parameter file; apply ``--set`` overrides.

    Parameters
    ----------
    params_path
        A ``params/<stem>.yaml`` file.
    overrides
        ``name -> text`` from ``--set name=value``; converted with the notebook's declared type.

    Raises
    ------
    UsageError
        For an unknown key, a missing or malformed ``report``/``title``/``description``/
        ``audience``/``for_each``, the retired ``restricted`` key, ``parameters.audience``
        (set by the top-level key), ``suppress_below`` under the library's minimum (5) in a
        public report,
        a missing notebook, a notebook without a cell tagged ``parameters``, a parameter the
        notebook does not declare, or a value of the wrong type. The message names the file and key.
    """
    path = Path(params_path)
    data = _read_yaml(path)
    if RETIRED_RESTRICTED_KEY in data:
        was = data[RETIRED_RESTRICTED_KEY]
        raise UsageError(
            f"{path}: key 'restricted' is replaced by 'audience' (public, school or "
            f"restricted): write 'audience: {'restricted' if was is True else 'public'}' "
            "(or 'audience: school' for a school's own pack) and remove 'restricted' here "
            "and under parameters"
        )
    unknown = [k for k in data if k not in ALLOWED_KEYS]
    if unknown:
        raise UsageError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(ALLOWED_KEYS)})")
    report = data.get("report")
    if not isinstance(report, str) or not report or "/" in report or "\\" in report:
        raise UsageError(f"{path}: key 'report' must name a notebook in notebooks/ (no path)")
    title = data.get("title", report.replace("_", " ").capitalize())
    if not isinstance(title, str) or not title.strip():
        raise UsageError(f"{path}: key 'title' must be a non-empty text")
    audience = data.get("audience", "public")
    if audience not in AUDIENCES:
        raise UsageError(
            f"{path}: key 'audience' must be one of {', '.join(AUDIENCES)}, not {audience!r}"
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise UsageError(f"{path}: key 'description' must be one line of text")
    description = " ".join(description.split())
    for_each = data.get("for_each")
    if for_each not in FOR_EACH_VALUES:
        raise UsageError(f"{path}: key 'for_each' must be null or 'school', not {for_each!r}")
    given = data.get("parameters") or {}
    if not isinstance(given, dict):
        raise UsageError(f"{path}: key 'parameters' must be a mapping of name: value")

    root = find_project_root(path, report)
    notebook = root / "notebooks" / f"{report}.ipynb"
    if not notebook.is_file():
        raise UsageError(f"{path}: key 'report': notebook {notebook} not found")
    if not _has_parameters_cell(notebook):
        raise UsageError(f"{notebook}: no cell tagged '{PARAMETERS_TAG}'")
    if not _kernel_name(notebook):
        raise UsageError(
            f"{notebook}: the notebook's metadata names no kernel (kernelspec); "
            "save it from Jupyter with the Python 3 kernel"
        )
    declared = papermill.inspect_notebook(str(notebook))

    for name in (AUDIENCE_PARAMETER, RETIRED_RESTRICTED_KEY):
        if name in given or name in (overrides or {}):
            raise UsageError(
                f"{path}: key 'parameters.{name}': the audience is set once, by the top-level "
                f"key 'audience' (public, school or restricted), and passed to the notebook"
            )
    if RETIRED_RESTRICTED_KEY in declared:
        raise UsageError(
            f"{notebook}: parameter 'restricted' is replaced by 'audience: str = \"public\"' "
            "(the runner sets it from the params file's 'audience')"
        )
    parameters: dict[str, Any] = {}
    if AUDIENCE_PARAMETER in declared:
        parameters[AUDIENCE_PARAMETER] = audience
    for name, value in given.items():
        if name not in declared:
            raise UsageError(
                f"{path}: key 'parameters.{name}': the notebook {notebook.name} does not declare "
                f"it (declared: {', '.join(declared) or 'none'})"
            )
        type_name = declared[name]["inferred_type_name"]
        parameters[name] = coerce_value(value, type_name, f"{path}: key 'parameters.{name}'")
    for name, text in (overrides or {}).items():
        if name not in declared:
            raise UsageError(
                f"--set {name}: the notebook {notebook.name} does not declare it "
                f"(declared: {', '.join(declared) or 'none'})"
            )
        type_name = declared[name]["inferred_type_name"]
        parameters[name] = parse_override(text, type_name, f"--set {name}")

    _check_suppression(path, audience, parameters, declared)

    if for_each == "school":
        if SCHOOL_PARAMETER not in declared:
            raise UsageError(
                f"{path}: key 'for_each': the notebook {notebook.name} does not declare "
                f"'{SCHOOL_PARAMETER}'"
            )
        if SCHOOL_PARAMETER in given:
            raise UsageError(
                f"{path}: key 'parameters.{SCHOOL_PARAMETER}': set per school by for_each"
            )

    # Paths from the params file or --set are relative to the project root; the kernel runs
    # in notebooks/ (as in JupyterLab and nbval), so they are injected as absolute paths.
    # A notebook's own default is relative to the notebook's folder.
    for name in PATH_PARAMETERS:
        if isinstance(parameters.get(name), str) and parameters[name]:
            parameters[name] = str((root / parameters[name]).resolve())
    data_dir = None
    if isinstance(parameters.get(DATA_DIR_PARAMETER), str) and parameters[DATA_DIR_PARAMETER]:
        data_dir = Path(parameters[DATA_DIR_PARAMETER])
    elif isinstance(default := _notebook_default(declared, DATA_DIR_PARAMETER), str) and default:
        data_dir = (notebook.parent / default).resolve()
    if for_each == "school" and data_dir is None:
        raise UsageError(f"{path}: for_each: school needs a '{DATA_DIR_PARAMETER}' parameter")

    return ReportSpec(
        path=path.resolve(),
        stem=path.stem,
        root=root,
        report=report,
        title=title.strip(),
        audience=audience,
        for_each=for_each,
        notebook=notebook,
        parameters=parameters,
        declared=declared,
        data_dir=data_dir,
        description=description,
    )


def find_params_files(params_dir: str | Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file in ``params_dir``, sorted by name."""
    folder = Path(params_dir)
    if not folder.is_dir():
        raise UsageError(f"{folder}: parameter folder not found")
    return sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
