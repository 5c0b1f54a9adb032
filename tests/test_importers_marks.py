"""import marks: session-level MIS exports mapped to contract marks by a YAML file.

The shipped Wonde-style mapping (docs/mappings/wonde.yaml) round-trips a small synthetic LA:
its marks written as a Wonde-style export (student ids, code ids) and imported again are the
same marks. Unmapped values are listed with their counts; nothing is guessed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from builders import URN_A, make_upn

from attendance_lib.cli import main
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core.errors import DataError, UsageError
from attendance_lib.importers.marks import import_marks
from attendance_lib.synth import generate

MAPPINGS = Path(__file__).resolve().parent.parent / "docs" / "mappings"
P1, P2 = make_upn(1), make_upn(2)


def _sorted(marks: pd.DataFrame) -> pd.DataFrame:
    out = marks.astype({"upn": str, "session": str, "code": str, "urn": "int64"})
    return out.sort_values(["upn", "urn", "date", "session"]).reset_index(drop=True)


def test_wonde_style_export_round_trips_a_synthetic_la(tmp_path):
    la = tmp_path / "la"
    generate(la, seed=5, pupils=200, schools=4, years=("2023/24",), progress=False)
    marks = load_dataset(la).marks
    enrolments = marks[["upn", "urn"]].drop_duplicates().reset_index(drop=True)
    enrolments["id"] = [f"STU{i:05d}" for i in range(len(enrolments))]
    work = tmp_path / "wonde"
    work.mkdir()
    shutil.copy(MAPPINGS / "wonde.yaml", work / "wonde.yaml")
    enrolments[["id", "upn", "urn"]].to_csv(work / "students.csv", index=False)
    code_ids = {
        v: k for k, v in yaml.safe_load((MAPPINGS / "wonde.yaml").read_text())["codes"].items()
    }
    export = marks.astype({"upn": str, "code": str, "session": str}).merge(
        enrolments.astype({"upn": str}), on=["upn", "urn"]
    )
    pd.DataFrame(
        {
            "student_id": export["id"],
            "date": export["date"].dt.strftime("%Y-%m-%d"),
            "session": export["session"],
            "attendance_code_id": export["code"].map(code_ids),
        }
    ).to_csv(work / "export.csv", index=False)
    out = tmp_path / "imported"
    out.mkdir()
    for table in ("schools", "pupils", "calendar"):
        shutil.copy(la / f"{table}.csv", out / f"{table}.csv")
    code = main(
        ["import", "marks", str(work / "export.csv"), "--mapping", str(work / "wonde.yaml"),
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    again = load_dataset(out).marks
    pd.testing.assert_frame_equal(_sorted(again), _sorted(marks), check_categorical=False)


def _mapping(tmp_path, **keys) -> Path:
    base = {
        "columns": {"upn": "UPN", "date": "Date", "session": "Session", "code": "Mark"},
        "urn": URN_A,
        "date_formats": ["%d/%m/%Y"],
        "sessions": {"A": "AM", "P": "PM"},
        "dfe_codes_as_is": True,
        "codes": {"LATE": "L"},
    }
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(base | keys))
    return path


def test_sessions_dates_and_mis_codes_are_mapped(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        f"upn,date,session,mark\n{P1},04/09/2023,A,/\n{P1},04/09/2023,P,LATE\n{P2},05/09/2023,A,N\n"
    )
    path = import_marks(export, _mapping(tmp_path), tmp_path / "out")
    marks = pd.read_parquet(path)
    assert marks["code"].tolist() == ["/", "L", "N"]
    assert marks["session"].tolist() == ["AM", "PM", "AM"]
    assert marks["date"].astype(str).tolist() == ["2023-09-04", "2023-09-04", "2023-09-05"]
    assert set(marks["urn"]) == {URN_A}


def test_unmapped_values_are_listed_with_counts_and_nothing_is_written(tmp_path):
    export = tmp_path / "export.csv"
    rows = [f"{P1},04/09/2023,A,ZZ"] * 3 + [f"{P1},04/09/2023,Noon,/", f"{P2},2023-09-05,P,/"]
    export.write_text("UPN,Date,Session,Mark\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        import_marks(export, _mapping(tmp_path), tmp_path / "out")
    found = {(p.column, p.row): p.message for p in err.value.problems}
    assert "'ZZ' is not in the mapping's codes (3 rows" in found[("mark", 1)]
    assert "'Noon' is not in the mapping's sessions (1 rows" in found[("session", 4)]
    assert "'2023-09-05' is not in the mapping's date formats" in found[("date", 5)]
    assert not (tmp_path / "out" / "marks.parquet").exists()


def test_a_missing_column_and_a_bad_mapping_are_named(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(f"UPN,Date,Mark\n{P1},04/09/2023,/\n")
    with pytest.raises(DataError) as err:
        import_marks(export, _mapping(tmp_path), tmp_path / "out")
    assert [(p.column, p.message) for p in err.value.problems] == [
        ("session", "column for session is missing from the export")
    ]
    with pytest.raises(UsageError, match="not DfE codes"):
        import_marks(export, _mapping(tmp_path, codes={"LATE": "late"}), tmp_path / "out")
    with pytest.raises(UsageError, match="AM or PM"):
        import_marks(export, _mapping(tmp_path, sessions={"1": "morning"}), tmp_path / "out")


@pytest.mark.parametrize("name", ["wonde", "sims", "arbor"])
def test_shipped_mappings_load(name):
    from attendance_lib.importers.marks import load_mapping

    mapping = load_mapping(MAPPINGS / f"{name}.yaml")
    assert set(mapping["sessions"].values()) == {"AM", "PM"}
