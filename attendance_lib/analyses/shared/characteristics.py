"""Pupil characteristics on enrolment tables, and absence by characteristic with the gap to the rest.

Characteristics come from pupils.csv for the same academic year (the spring census record),
joined on upn + academic year, so a pupil who moved school keeps their characteristics at
both enrolments. Children in need (CIN), on a child protection plan (CPP) and looked after
(CLA) come from services.csv: a pupil counts when a record of that service was open at any
point in the period (start_date <= last day and end_date empty or >= first day). "With a
social worker" is any of the three.

A folder imported from the DfE weekly download (``import vyed``) also carries the
download's own flags on each pupil record: ``cla``, ``cin``, ``cpp``, previously looked after
(``plac``) and ``primary_sen_type``, as at the pupil's latest file of the year. Where
pupils.csv has a flag, a pupil counts when either source says yes; a flag the download gives
as unknown stays unknown ("not recorded", counted as its own group) unless services.csv says
yes; nothing unknown is taken as no. PLAC and primary SEN type appear only where recorded.

Rates for each group are built from its summed sessions; PA / SA % are the share of its
enrolments persistently (>= 10%) / severely (>= 50%) absent (DfE). The gap to the rest is
the group's figure minus the figure for every other enrolment in the table, in percentage
points, both computed from summed sessions.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pandas as pd

from attendance_lib.core.columns import text_in
from attendance_lib.engine.sessions import COUNT_COLUMNS, add_rates

#: Services that mean the child has a social worker.
SOCIAL_CARE_SERVICES = ("cin", "cpp", "cla")
#: Words for every service in services.csv.
SERVICE_LABELS = {
    "cin": "child in need (CIN)",
    "cpp": "child protection plan (CPP)",
    "cla": "looked after (CLA)",
    "plac": "previously looked after (PLAC)",
    "early_help": "early help",
    "youth_justice": "youth justice",
    "other": "other service",
}
SEN_LABELS = {"N": "no identified SEN", "K": "SEN support", "E": "EHC plan"}
NOT_RECORDED = "not recorded"
PUPIL_COLUMNS = ["fsm", "sen", "sex", "year_group", "ethnicity", "eal", "primary_sen_type"]
#: Flags the DfE weekly download gives on each pupil record (optional pupils.csv columns).
RECORD_FLAGS = ("cin", "cpp", "cla", "plac")
SCHOOL_COLUMNS = ["school_name", "phase", "locality", "officer"]


def services_open(services: pd.DataFrame | None, start, end) -> pd.DataFrame:
    """Pupils with each service open at any point from ``start`` to ``end`` (both included).

    Returns one row per (upn, service), with columns upn, service.
    """
    if services is None or services.empty:
        return pd.DataFrame({"upn": pd.Series(dtype=str), "service": pd.Series(dtype=str)})
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    open_ = (services["start_date"] <= end) & (
        services["end_date"].isna() | (services["end_date"] >= start)
    )
    rows = services.loc[open_, ["upn", "service"]].astype(str)
    return rows.drop_duplicates().sort_values(["upn", "service"]).reset_index(drop=True)


def service_flags(upns: pd.Series, open_services: pd.DataFrame) -> pd.DataFrame:
    """Boolean columns cin, cpp, cla and social_worker for each upn in ``upns`` (same index)."""
    out = pd.DataFrame(index=upns.index)
    values = upns.astype(str)
    for service in SOCIAL_CARE_SERVICES:
        having = set(open_services.loc[open_services["service"] == service, "upn"])
        out[service] = values.isin(having).to_numpy()
    out["social_worker"] = out[list(SOCIAL_CARE_SERVICES)].any(axis=1)
    return out


def services_by_pupil(open_services: pd.DataFrame) -> pd.Series:
    """The services open for each upn, in words, sorted and joined with ``; `` (index: upn,
    sorted).

    One sort of the whole table, then one pass joining each pupil's run of words: no pandas
    group per pupil.
    """
    if open_services.empty:
        return pd.Series(dtype=str)
    words = open_services["service"].map(SERVICE_LABELS).fillna(open_services["service"])
    frame = pd.DataFrame(
        {"upn": open_services["upn"].to_numpy(), "words": words.astype(str).to_numpy()}
    ).sort_values(["upn", "words"], kind="stable")
    joined = {
        upn: "; ".join(word for _, word in run)
        for upn, run in itertools.groupby(
            zip(frame["upn"], frame["words"], strict=True), key=operator.itemgetter(0)
        )
    }
    return pd.Series(joined, dtype=object).rename_axis("upn")


def attach_characteristics(
    table: pd.DataFrame,
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    open_services: pd.DataFrame,
) -> pd.DataFrame:
    """Add pupil characteristics (same academic year), school details and social-care flags.

    ``table`` has upn, urn and academic_year (e.g. :class:`PeriodEnrolments.table`). Pupils
    without a pupils.csv row that year keep missing characteristics (shown as not recorded).
    Flags recorded in pupils.csv (:data:`RECORD_FLAGS`, from the DfE weekly download) are
    combined with ``open_services`` as the module docstring says (nullable booleans then).
    """
    cols = [c for c in PUPIL_COLUMNS if c in pupils]
    recorded = [c for c in RECORD_FLAGS if c in pupils and pupils[c].notna().any()]
    # only the table's pupils' rows are typed and joined (a school's few hundred of the LA's)
    theirs = text_in(pupils["upn"], table["upn"])
    chars = pupils.loc[theirs, ["upn", "academic_year", *cols, *recorded]].astype(
        {"upn": str, "academic_year": str}
    )
    chars = chars.rename(columns={c: f"{c}_recorded" for c in recorded})
    out = table.merge(chars, on=["upn", "academic_year"], how="left", validate="many_to_one")
    school_cols = [c for c in SCHOOL_COLUMNS if c in schools]
    out = out.merge(
        schools[["urn", *school_cols]].astype({"urn": "int64"}),
        on="urn",
        how="left",
        validate="many_to_one",
    )
    flags = service_flags(out["upn"], open_services)
    for column in recorded:
        record = _flag(out.pop(f"{column}_recorded"))
        flags[column] = record | flags[column] if column in flags else record  # yes wins
    if recorded:
        care = [flags[c].astype("boolean") for c in SOCIAL_CARE_SERVICES]
        flags["social_worker"] = care[0] | care[1] | care[2]  # unknown only if none says yes
    return pd.concat([out, flags], axis=1)


def _flag(values: pd.Series) -> pd.Series:
    """A recorded flag as a nullable boolean (typed by the contract, or true/false text)."""
    if isinstance(values.dtype, pd.BooleanDtype) or pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    return text.map({"true": True, "false": False}).astype("boolean")


def _bool_labels(values: pd.Series, yes: str, no: str) -> pd.Series:
    v = values.astype("boolean")
    return pd.Series(
        np.where(v.isna(), NOT_RECORDED, np.where(v.fillna(False), yes, no)), index=values.index
    )


def characteristic_groups(table: pd.DataFrame) -> dict[str, pd.Series]:
    """Each characteristic present in ``table`` as a Series of group labels (same index).

    Ethnicity, EAL and primary SEN type are included only when recorded for at least one
    enrolment; PLAC only when pupils.csv records it (:func:`attach_characteristics`).
    """
    groups: dict[str, pd.Series] = {}
    if "fsm" in table:
        groups["Free school meals"] = _bool_labels(table["fsm"], "eligible", "not eligible")
    if "sen" in table:
        groups["Special educational needs"] = (
            table["sen"].map(SEN_LABELS).fillna(NOT_RECORDED).astype(str)
        )
    for service in (*SOCIAL_CARE_SERVICES, "plac"):
        if service in table:
            label = SERVICE_LABELS[service]
            groups[label[:1].upper() + label[1:]] = _bool_labels(table[service], "yes", "no")
    if "social_worker" in table:
        groups["With a social worker (CIN, CPP or CLA)"] = _bool_labels(
            table["social_worker"], "yes", "no"
        )
    if "sex" in table:
        groups["Sex"] = (
            table["sex"].map({"F": "female", "M": "male"}).fillna(NOT_RECORDED).astype(str)
        )
    if "year_group" in table:
        groups["Year group"] = table["year_group"].astype(object).fillna(NOT_RECORDED).astype(str)
    if "ethnicity" in table and table["ethnicity"].notna().any():
        groups["Ethnicity"] = table["ethnicity"].astype(object).fillna(NOT_RECORDED).astype(str)
    if "primary_sen_type" in table and table["primary_sen_type"].notna().any():
        kind = table["primary_sen_type"].astype(object).fillna(NOT_RECORDED).astype(str)
        no_sen = (
            table["sen"].eq("N").fillna(False).to_numpy(dtype=bool) if "sen" in table else False
        )
        groups["Primary SEN type"] = kind.mask(no_sen, SEN_LABELS["N"])
    if "eal" in table and table["eal"].notna().any():
        groups["English as an additional language"] = _bool_labels(
            table["eal"], "first language other than English", "English"
        )
    return groups


def _sums(table: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    frame = table[COUNT_COLUMNS].copy()
    frame["enrolments"] = 1
    frame["pa_enrolments"] = table["persistent_absent"].astype("int64")
    frame["sa_enrolments"] = table["severe_absent"].astype("int64")
    return frame.groupby(labels.to_numpy(), sort=True).sum()


def _rates(sums: pd.DataFrame) -> pd.DataFrame:
    out = add_rates(sums, flags=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pa_pct"] = 100 * sums["pa_enrolments"] / sums["enrolments"]
        out["sa_pct"] = 100 * sums["sa_enrolments"] / sums["enrolments"]
    return out


def _year_order(label: str) -> tuple[int, str]:
    order = {"N1": -2, "N2": -1, "R": 0}
    if label in order:
        return (order[label], label)
    return (int(label), label) if label.isdigit() else (99, label)


def by_characteristic(table: pd.DataFrame) -> pd.DataFrame:
    """Absence, PA and SA for every group of every characteristic, with the gap to the rest.

    Parameters
    ----------
    table
        Enrolment rows with the count columns, persistent / severe flags and the columns
        added by :func:`attach_characteristics`.

    Returns
    -------
    DataFrame
        characteristic, group, enrolments, absence_pct, pa_pct, sa_pct, and
        absence_gap_pp, pa_gap_pp, sa_gap_pp: the group's figure minus that of all other
        enrolments in ``table`` (percentage points; positive = the group is more absent).
    """
    total = _sums(table, pd.Series(0, index=table.index)).iloc[0]
    parts = []
    for name, labels in characteristic_groups(table).items():
        sums = _sums(table, labels)
        rest = total - sums
        group_rates, rest_rates = _rates(sums), _rates(rest)
        part = pd.DataFrame(
            {
                "characteristic": name,
                "group": sums.index.astype(str),
                "enrolments": sums["enrolments"].to_numpy(),
                "absence_pct": group_rates["absence_pct"].to_numpy(),
                "pa_pct": group_rates["pa_pct"].to_numpy(),
                "sa_pct": group_rates["sa_pct"].to_numpy(),
                "absence_gap_pp": (
                    group_rates["absence_pct"] - rest_rates["absence_pct"]
                ).to_numpy(),
                "pa_gap_pp": (group_rates["pa_pct"] - rest_rates["pa_pct"]).to_numpy(),
                "sa_gap_pp": (group_rates["sa_pct"] - rest_rates["sa_pct"]).to_numpy(),
            }
        )
        if name == "Year group":
            part = part.iloc[
                sorted(range(len(part)), key=lambda i: _year_order(part["group"].iloc[i]))
            ]
        parts.append(part)
    columns = [
        "characteristic", "group", "enrolments", "absence_pct", "pa_pct", "sa_pct",
        "absence_gap_pp", "pa_gap_pp", "sa_gap_pp",
    ]  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
