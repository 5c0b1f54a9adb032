"""DfE weekly pupil-level downloads (VYED) made from a synthetic LA's register marks.

:func:`write_vyed` reads a data folder the generator wrote (schools, pupils, calendar,
marks.parquet, services) and writes what the LA would have downloaded each Monday from the
DfE's "Monitor your school attendance" service: one CSV per Monday of each academic year,
named ``Official_Sensitive_<UKPRN>_School_Attendance_<DDMMYYYY>.csv``, with every
enrolment's sessions from the start of the academic year (or admission) to the Sunday
before, leavers included with their figures to the leaving date. Importing them
(``attendance-workbench import vyed``) must give, for every whole-week window, the same
figures as counting the marks: the round trip that tests the importer.

Sessions follow the DfE's arithmetic (present excludes approved educational activity):
possible = present + AEA + authorised + unauthorised.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib.core import marks_sql
from attendance_lib.core.academic_calendar import Calendar, academic_year_of, age_on_31_august
from attendance_lib.core.codes import Group
from attendance_lib.core.sql_engines import run_sql
from attendance_lib.core.vyed_layout import VYED_LAYOUT

#: The synthetic LA's UKPRN (in every file name) and name.
LA_UKPRN = 10099999
LA_NAME = "Synthetic local authority"
_GROUPS = (Group.PRESENT, Group.AEA, Group.AUTHORISED, Group.UNAUTHORISED)
_FORENAMES = ("Amira", "Ben", "Chloe", "Daniel", "Ella", "Farhan", "Grace", "Harvey", "Isla")
_SURNAMES = ("Ahmed", "Brown", "Clarke", "Dobson", "Evans", "Fletcher", "Hussain", "Khan")
_SEN_TYPES = ("SEMH", "SLCN", "ASD", "MLD", "SpLD")


def _weekly_sql() -> str:
    sums = ",\n".join(f"COUNT(CASE WHEN c.grp = {int(g)} THEN 1 END) AS g{int(g)}" for g in _GROUPS)
    return f"""
SELECT {marks_sql.UPN} AS upn, {marks_sql.URN} AS urn,
       CAST(date_trunc('week', {marks_sql.DATE}) AS DATE) AS week,
       MIN({marks_sql.DATE}) AS first_date, MAX({marks_sql.DATE}) AS last_date,
{sums}
FROM marks m LEFT JOIN codes c ON {marks_sql.CODE} = c.code
GROUP BY 1, 2, 3
"""


def vyed_file_name(published: pd.Timestamp, ukprn: int = LA_UKPRN) -> str:
    """``Official_Sensitive_<UKPRN>_School_Attendance_<DDMMYYYY>.csv`` for a Monday."""
    return f"Official_Sensitive_{ukprn}_School_Attendance_{published:%d%m%Y}.csv"


def _yes_no(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "yes", "no")


def _pick(upns: pd.Series, choices: tuple[str, ...], salt: str) -> np.ndarray:
    index = [zlib.crc32(f"{salt}{u}".encode()) % len(choices) for u in upns]
    return np.asarray(choices, dtype=object)[index]


def write_vyed(data_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write weekly VYED downloads for every academic year of a synthetic LA.

    Parameters
    ----------
    data_dir
        A folder written by :func:`attendance_lib.synth.generate` (or any folder in that
        layout with ``marks.parquet``).
    out_dir
        Folder for the CSV files (created if missing; files of the same names replaced).

    Returns
    -------
    list of Path
        The files written, oldest first.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weeks = run_sql(
        _weekly_sql(),
        {"marks": data_dir / "marks.parquet", "codes": marks_sql.codes_frame()},
        engine="duckdb",
    )
    weeks["week"] = pd.to_datetime(weeks["week"])
    weeks["last_date"] = pd.to_datetime(weeks["last_date"])
    weeks["first_date"] = pd.to_datetime(weeks["first_date"])
    weeks["academic_year"] = weeks["last_date"].map(academic_year_of)
    spans = weeks.groupby(["upn", "urn"]).agg(
        admitted=("first_date", "min"), last=("last_date", "max")
    )
    final_day = weeks["last_date"].max()
    spans["leaving"] = spans["last"].where(spans["last"] < final_day)
    calendar_table = pd.read_csv(data_dir / "calendar.csv", parse_dates=["start_date", "end_date"])
    calendar = Calendar(calendar_table)
    pupils = pd.read_csv(
        data_dir / "pupils.csv",
        dtype={"upn": str, "year_group": str},
        parse_dates=["date_of_birth"],
    )
    schools = pd.read_csv(data_dir / "schools.csv").set_index("urn")
    services_path = data_dir / "services.csv"
    services = (
        pd.read_csv(services_path, parse_dates=["start_date", "end_date"])
        if services_path.is_file()
        else pd.DataFrame(columns=["upn", "service", "start_date", "end_date"])
    )
    written = []
    for year in calendar.years:
        in_year = weeks[weeks["academic_year"] == year]
        if in_year.empty:
            continue
        start = calendar.year_bounds(year)[0]
        first_monday = start - pd.Timedelta(days=start.day_of_week)
        last_monday = in_year["week"].max()
        n_weeks = (last_monday - first_monday).days // 7 + 1
        enrol = in_year[["upn", "urn"]].drop_duplicates().sort_values(["upn", "urn"])
        enrol = enrol.reset_index(drop=True)
        index = pd.MultiIndex.from_frame(enrol)
        row = index.get_indexer(pd.MultiIndex.from_frame(in_year[["upn", "urn"]]))
        col = ((in_year["week"] - first_monday).dt.days // 7).to_numpy()
        counts = np.zeros((len(enrol), n_weeks, len(_GROUPS)), dtype=np.int64)
        for i, g in enumerate(_GROUPS):
            np.add.at(counts[:, :, i], (row, col), in_year[f"g{int(g)}"].to_numpy())
        cumulative = counts.cumsum(axis=1)
        first_week = np.full(len(enrol), n_weeks, dtype=np.int64)
        np.minimum.at(first_week, row, col)
        base = _enrolment_details(enrol, year, pupils, schools, spans)
        for k in range(n_weeks):
            published = first_monday + pd.Timedelta(weeks=k + 1)
            keep = first_week <= k
            frame = _file_rows(base[keep], cumulative[keep, k, :], published, year, services)
            path = out_dir / vyed_file_name(published)
            frame.to_csv(path, index=False, lineterminator="\n")
            written.append(path)
    return written


def _enrolment_details(
    enrol: pd.DataFrame,
    year: str,
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    spans: pd.DataFrame,
) -> pd.DataFrame:
    """Everything but the sessions for each enrolment of one academic year."""
    this_year = pupils[pupils["academic_year"] == year].drop_duplicates("upn").set_index("upn")
    any_year = pupils.drop_duplicates("upn", keep="last").set_index("upn")
    info = this_year.reindex(enrol["upn"]).combine_first(any_year.reindex(enrol["upn"]))
    info = info.reset_index(drop=True)
    span = spans.reindex(pd.MultiIndex.from_frame(enrol)).reset_index(drop=True)
    school = schools.reindex(enrol["urn"]).reset_index(drop=True)
    age = age_on_31_august(info["date_of_birth"], year)
    sen = info["sen"].fillna("N").to_numpy()
    sen_type = np.where(sen == "N", "", _pick(enrol["upn"], _SEN_TYPES, "sen"))
    return pd.DataFrame(
        {
            "upn": enrol["upn"].to_numpy(),
            "dob": info["date_of_birth"].dt.strftime("%d/%m/%Y").fillna(""),
            "sex": info["sex"].fillna("unknown").to_numpy(),
            "ethnicity": info["ethnicity"].fillna("").to_numpy(),
            "english_additional_language": np.where(
                info["eal"].isna(), "unknown", _yes_no(info["eal"].fillna(False).astype(bool))
            ),
            "compulsory_school_age": np.where(
                age.isna(), "unknown", _yes_no(age.between(5, 15).fillna(False))
            ),
            "sen_support": _yes_no(sen == "K"),
            "free_school_meals": _yes_no(info["fsm"].astype(bool)),
            "education_health_care_plan": _yes_no(sen == "E"),
            "primary_sen_type": sen_type,
            "secondary_sen_type": "",
            "unique_reference_number": enrol["urn"].to_numpy(),
            "year_group": info["year_group"].to_numpy(),
            "school_local_authority_ukprn": LA_UKPRN,
            "school_local_authority_name": LA_NAME,
            "home_local_authority_ukprn": LA_UKPRN,
            "home_local_authority_name": LA_NAME,
            "learning_provider_ukprn": 10_000_000 + enrol["urn"].to_numpy() % 10_000_000,
            "school_name": school["school_name"].to_numpy(),
            "phase": school["phase"].str.replace("_", " ").to_numpy(),
            "pupil_surname": _pick(enrol["upn"], _SURNAMES, "surname"),
            "pupil_forename": _pick(enrol["upn"], _FORENAMES, "forename"),
            "admission_date": span["admitted"].dt.strftime("%d/%m/%Y").to_numpy(),
            "leaving": span["leaving"].to_numpy(),
        }
    )


def _file_rows(
    base: pd.DataFrame,
    sessions: np.ndarray,
    published: pd.Timestamp,
    year: str,
    services: pd.DataFrame,
) -> pd.DataFrame:
    """The rows of the file published on ``published``, in the DfE column order."""
    present, aea, authorised, unauthorised = (sessions[:, i] for i in range(4))
    possible = sessions.sum(axis=1)
    absent = authorised + unauthorised
    friday = published - pd.Timedelta(days=3)
    active = services[
        (services["start_date"] <= friday)
        & (services["end_date"].isna() | (services["end_date"] >= friday))
    ]

    def on(service: str) -> np.ndarray:
        return _yes_no(base["upn"].isin(active.loc[active["service"] == service, "upn"]))

    leaving = pd.to_datetime(base["leaving"])
    left = leaving < published
    frame = base.drop(columns="leaving").copy()
    frame.insert(0, "academic_term", year)
    frame["looked_after_child"] = on("cla")
    frame["previously_looked_after_child"] = "no"
    frame["child_in_need"] = on("cin")
    frame["child_protection_plan"] = on("cpp")
    frame["persistently_absent"] = _yes_no((possible > 0) & (absent * 100 >= 10 * possible))
    frame["severely_absent"] = _yes_no((possible > 0) & (absent * 100 >= 50 * possible))
    frame["leaving_date"] = np.where(left, leaving.dt.strftime("%d/%m/%Y"), "")
    frame["full_days_missed"] = absent // 2
    frame["possible_sessions"] = possible
    frame["absent_sessions"] = absent
    frame["present_sessions"] = present
    frame["approved_educational_activity_sessions"] = aea
    frame["authorised_absent_sessions"] = authorised
    frame["unauthorised_absent_sessions"] = unauthorised
    return frame[list(VYED_LAYOUT)]
