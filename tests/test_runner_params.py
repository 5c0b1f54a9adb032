"""Parameter files: every mistake is a UsageError naming the key or file (no kernel needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_fixtures import runner_project  # noqa: F401  (fixture)

from attendance_lib.core.errors import UsageError
from attendance_lib.runner.params import coerce_value, load_params, parse_override


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_unknown_key", "unknown key 'paramaters'"),
        ("bad_undeclared", "'parameters.academic_yr'"),
        ("bad_missing_notebook", "no_such_report.ipynb not found"),
        ("bad_type", "'parameters.rows': expected int, got str 'three'"),
        ("bad_no_parameters_cell", "no cell tagged 'parameters'"),
    ],
)
def test_bad_params_file_names_the_key(runner_project, name, expected):  # noqa: F811
    root = runner_project(name)
    with pytest.raises(UsageError, match=expected.replace("(", r"\(").replace(".", r"\.")) as err:
        load_params(root / "params" / f"{name}.yaml")
    assert err.value.exit_code == 2


def test_good_params_file_is_typed_and_located(runner_project):  # noqa: F811
    root = runner_project("good")
    spec = load_params(root / "params" / "good.yaml")
    assert spec.root == root.resolve()
    assert spec.notebook == root.resolve() / "notebooks" / "good.ipynb"
    assert spec.parameters == {"academic_year": "2023/24", "rows": 3}
    assert spec.title == "Fixture report, 2023/24"
    assert spec.audience == "public" and spec.restricted is False and spec.for_each is None
    # the notebook's own default data_dir is relative to notebooks/
    assert spec.data_dir == (root / "data" / "none").resolve()


def test_data_dir_in_params_is_relative_to_project_root_and_injected_absolute(runner_project):  # noqa: F811
    root = runner_project("school", data=True)
    spec = load_params(root / "params" / "school.yaml")
    assert spec.data_dir == (root / "data" / "la").resolve()
    assert spec.parameters["data_dir"] == str((root / "data" / "la").resolve())


def test_overrides_use_declared_types(runner_project):  # noqa: F811
    root = runner_project("good")
    spec = load_params(
        root / "params" / "good.yaml",
        overrides={"rows": "2", "scale": "3", "academic_year": "2022/23"},
    )
    assert spec.parameters["rows"] == 2
    assert spec.parameters["scale"] == 3.0 and isinstance(spec.parameters["scale"], float)
    assert spec.parameters["academic_year"] == "2022/23"


def test_override_of_undeclared_parameter_is_an_error(runner_project):  # noqa: F811
    root = runner_project("good")
    with pytest.raises(UsageError, match="--set colour"):
        load_params(root / "params" / "good.yaml", overrides={"colour": "red"})


def test_for_each_school_needs_urn_parameter(runner_project, tmp_path: Path):  # noqa: F811
    root = runner_project()
    bad = root / "params" / "fan.yaml"
    bad.write_text("report: good\nfor_each: school\nparameters:\n  data_dir: data/la\n")
    with pytest.raises(UsageError, match="does not declare 'urn'"):
        load_params(bad)


@pytest.mark.parametrize(
    ("text", "type_name", "expected"),
    [
        ("3", "int", 3),
        ("2.5", "float", 2.5),
        ("true", "bool", True),
        ("no", "bool", False),
        ("2023/24", "str", "2023/24"),
        ("yes", "str", "yes"),
        ("[a, b]", "list[str]", ["a", "b"]),
        ("a,b", "list[str]", ["a", "b"]),
        ("7", "None", 7),
    ],
)
def test_parse_override(text, type_name, expected):
    assert parse_override(text, type_name, "--set x") == expected


@pytest.mark.parametrize(("text", "type_name"), [("2.5", "int"), ("maybe", "bool"), ("x", "float")])
def test_parse_override_rejects_wrong_type(text, type_name):
    with pytest.raises(UsageError, match="--set x: expected"):
        parse_override(text, type_name, "--set x")


def test_coerce_value_rejects_bool_for_int():
    with pytest.raises(UsageError):
        coerce_value(True, "int", "k")


def _suppression_project(tmp_path: Path, audience: str, value) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cell = new_code_cell("suppress_below: int = 5  # counts below this are shown as c")
    cell.metadata["tags"] = ["parameters"]
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    nb = new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, tmp_path / "notebooks" / "small.ipynb")
    (tmp_path / "params").mkdir(exist_ok=True)
    params = tmp_path / "params" / "small.yaml"
    params.write_text(
        f"report: small\naudience: {audience}\n"
        + (f"parameters:\n  suppress_below: {value}\n" if value is not None else "")
    )
    return params


@pytest.mark.parametrize("value", [0, -1, 4])
def test_a_public_report_cannot_lower_suppression(tmp_path, value):
    params = _suppression_project(tmp_path, "public", value)
    with pytest.raises(UsageError, match=r"parameters\.suppress_below.*minimum of 5"):
        load_params(params)
    with pytest.raises(UsageError, match="suppress_below"):
        load_params(_suppression_project(tmp_path, "public", None), {"suppress_below": str(value)})


@pytest.mark.parametrize(
    "audience, value",
    [("public", 5), ("public", 10), ("restricted", 0), ("restricted", 3), ("school", 3)],
)
def test_suppression_at_or_above_the_minimum_or_not_public_is_accepted(tmp_path, audience, value):
    spec = load_params(_suppression_project(tmp_path, audience, value))
    assert spec.parameters["suppress_below"] == value


def _audience_project(tmp_path: Path, header: str, declares: str = "audience") -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    line = {
        "audience": 'audience: str = "public"  # public, school or restricted',
        "restricted": "restricted: bool = False  # the retired parameter",
    }[declares]
    cell = new_code_cell(line)
    cell.metadata["tags"] = ["parameters"]
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    nb = new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, tmp_path / "notebooks" / "small.ipynb")
    (tmp_path / "params").mkdir(exist_ok=True)
    params = tmp_path / "params" / "small.yaml"
    params.write_text("report: small\n" + header)
    return params


@pytest.mark.parametrize("audience", ["public", "school", "restricted"])
def test_one_audience_key_drives_the_runner_and_the_notebook(tmp_path, audience):
    spec = load_params(_audience_project(tmp_path, f"audience: {audience}\n"))
    assert spec.audience == audience and spec.parameters["audience"] == audience
    assert spec.restricted is (audience == "restricted")


def test_audience_defaults_to_public_and_description_is_one_line(tmp_path):
    spec = load_params(_audience_project(tmp_path, "description: |\n  Two\n  lines\n"))
    assert spec.audience == "public" and spec.parameters["audience"] == "public"
    assert spec.description == "Two lines"


@pytest.mark.parametrize(
    ("header", "declares", "expected"),
    [
        ("restricted: true\n", "audience", "key 'restricted' is replaced by 'audience'.*"
         "audience: restricted"),
        ("restricted: false\n", "audience", "write 'audience: public'"),
        ("audience: secret\n", "audience", "must be one of public, school, restricted"),
        ("parameters:\n  audience: restricted\n", "audience", "set once, by the top-level"),
        ("audience: restricted\n", "restricted", "parameter 'restricted' is replaced by"),
        ("description: [a, b]\n", "audience", "'description' must be one line"),
    ],
)  # fmt: skip
def test_the_retired_restricted_key_and_bad_audiences_are_clear_errors(
    tmp_path, header, declares, expected
):
    with pytest.raises(UsageError, match=expected) as err:
        load_params(_audience_project(tmp_path, header, declares))
    assert err.value.exit_code == 2


def test_audience_cannot_be_overridden_with_set(tmp_path):
    with pytest.raises(UsageError, match="set once"):
        load_params(_audience_project(tmp_path, "audience: public\n"), {"audience": "restricted"})


def test_every_project_params_file_declares_its_audience_and_description():
    from runner_fixtures import PROJECT_PARAMS_DIR

    for path in sorted(PROJECT_PARAMS_DIR.glob("*.yaml")):
        spec = load_params(path)
        assert spec.description and "_" not in spec.description, path.name
        assert spec.parameters["audience"] == spec.audience, path.name
    assert load_params(PROJECT_PARAMS_DIR / "school_tsm_pack.yaml").audience == "school"
    assert load_params(PROJECT_PARAMS_DIR / "school_tsm_pack_pupils.yaml").restricted
