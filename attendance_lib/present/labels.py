"""The one glossary: every name a reader could see, in words.

Column heads, measure codes, parameter names and values, code meanings: a published page,
table head, chart axis or sentence shows :func:`label` of a name, never the name. CSVs keep
the stable snake_case names (EES tidy data); :func:`labels_for` gives the words for a
workbook's headers or the CSV's metadata file.

A name not in the glossary is built from its parts where that is safe (``previous_year_`` +
a known column, a known stem + ``_pct``), and otherwise turned into words
(:func:`fallback_words`); :func:`has_label` tells whether a name is really known, so tests can
insist that every published column is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath

#: Column heads, measures and other names, in words.
LABELS: dict[str, str] = {
    # places and groups
    "academic_year": "Academic year",
    "half_term": "Half term",
    "term": "Term",
    "phase": "Phase",
    "school_phase": "Phase",
    "urn": "URN",
    "upn": "UPN",
    "school_name": "School",
    "school": "School",
    "schools": "Schools",
    "school_type": "Type of school",
    "locality": "Locality",
    "officer": "Attendance officer",
    "area": "Area",
    "area_name": "Area",
    "la_name": "Local authority",
    "region_name": "Region",
    "country_name": "Country",
    "characteristic": "Characteristic",
    "group": "Group",
    "category": "Attendance category",
    "measure": "Measure",
    "reason": "Reason",
    "code": "Register code",
    "code_meaning": "Meaning of the code",
    "meaning": "Meaning of the code",
    "why": "Why it needs attention",
    "persistent": "Persistently absent",
    "severe": "Severely absent",
    "reached_on": "Date the penalty threshold was reached",
    "year_group": "Year group",
    "key_stage": "Key stage",
    "band": "Attendance band",
    "attendance_band": "Attendance band",
    "sen": "SEN provision",
    "fsm": "Free school meals",
    "sex": "Sex",
    "source": "Referral source",
    "referral_source": "Referral source",
    "cohort": "Pupils included",
    "comparators": "Compared with",
    "statistical_neighbours": "Statistical neighbours",
    "suppress_below": "Small numbers hidden below",
    "data_dir": "Data",
    "targets": "Targets",
    "pupil_list": "List of pupils",
    "audience": "Audience",
    "restricted": "Restricted",
    "window": "Comparison window",
    "basis": "Basis",
    "period": "Period",
    "note": "Note",
    "time_period": "Period",
    "time_identifier": "Part of the year",
    "geographic_level": "Level",
    "education_phase": "Phase",
    # counts
    "enrolments": "Enrolments",
    "total_enrolments": "All enrolments",
    "pupils": "Pupils",
    "sessions": "Sessions",
    "sessions_possible": "Possible sessions",
    "sessions_present": "Sessions attended",
    "sessions_authorised": "Authorised absence sessions",
    "sessions_unauthorised": "Unauthorised absence sessions",
    "sessions_aea": "Approved educational activity sessions",
    "unauthorised_sessions": "Unauthorised absence sessions",
    "pa_enrolments": "Persistently absent enrolments",
    "sa_enrolments": "Severely absent enrolments",
    "pa_pupils": "Persistently absent pupils",
    "previous_year_enrolments": "Enrolments a year earlier",
    "last_year_enrolments": "Enrolments a year earlier",
    "this_term_enrolments": "Enrolments this term",
    "previous_term_enrolments": "Enrolments last term",
    "started": "Interventions started",
    "expected": "Expected",
    "met": "Met",
    "meets_expectation": "Meets the expectation",
    "open": "Still open",
    "reviews_due": "Reviews due",
    "next_review": "Next review",
    "with_other_services": "With other services open",
    "with_attendance_team": "With the attendance team",
    "n_treated": "Pupils supported",
    "n_comparison": "Comparison pupils",
    "no_change": "No change",
    "improved": "Improved",
    "worsened": "Worse",
    "interventions": "Interventions",
    "n": "Number counted",
    "meeting": "Meeting the measure",
    "meeting_pct": "Meeting the measure (%)",
    "pending": "Pending (not yet complete in the data)",
    "status": "Status",
    "target": "Target",
    "complete": "Year complete in the data",
    "evaluable": "Evaluable",
    "increased": "Attendance rose",
    "decreased": "Attendance fell",
    "flag": "Flag",
    "neighbours": "Comparison pupils per child",
    "breakdown": "Breakdown by",
    "allocated": "Allocated",
    "capacity": "Capacity",
    "waiting": "Waiting",
    "priority": "Priority",
    "reasons": "Reasons",
    # rates (%)
    "value_pct": "Rate (%)",
    "attendance_pct": "Attendance (%)",
    "absence_pct": "Overall absence (%)",
    "authorised_pct": "Authorised absence (%)",
    "unauthorised_pct": "Unauthorised absence (%)",
    "pa_pct": "Persistent absence (%)",
    "sa_pct": "Severe absence (%)",
    "pct": "Share of enrolments (%)",
    "rate_pct": "Sessions missed per 100 possible (%)",
    "share_pct": "Share of all absence (%)",
    "la_rate_pct": "LA rate (%)",
    "ratio_to_la": "Ratio to the LA rate",
    "previous_year_pct": "A year earlier (%)",
    "previous_year_rate_pct": "A year earlier (%)",
    "this_term_pct": "This term (%)",
    "previous_term_pct": "Last term (%)",
    "change_pp": "Change (percentage points)",
    "gap_pp": "Gap to target (percentage points)",
    "absence_gap_pp": "Overall absence gap (percentage points)",
    "pa_gap_pp": "Persistent absence gap (percentage points)",
    "sa_gap_pp": "Severe absence gap (percentage points)",
    "gap_to_region_pp": "Gap to the region (percentage points)",
    "gap_to_england_pp": "Gap to England (percentage points)",
    "baseline_year": "Baseline year",
    "baseline_pct": "Baseline (%)",
    "current_pct": "Now (%)",
    "target_pct": "Target (%)",
    "target_year": "Target year",
    "trajectory_pct": "On the trajectory now (%)",
    "on_trajectory": "On trajectory",
    "funnel_position": "Against the funnel limits",
    "funnel": "Funnel compared on",
    "funnel_centre_pct": "Centre of the funnel (%)",
    "limit_95_low": "95% limit, lower (%)",
    "limit_95_high": "95% limit, upper (%)",
    "limit_998_low": "99.8% limit, lower (%)",
    "limit_998_high": "99.8% limit, upper (%)",
    "baseline_attendance_pct": "Attendance before (%)",
    "review_attendance_pct": "Attendance after 12 weeks (%)",
    "latest_attendance_pct": "Latest attendance (%)",
    "earlier_attendance_pct": "Earlier attendance (%)",
    "attendance_pct_latest": "Latest attendance (%)",
    "attendance_pct_earlier": "Earlier attendance (%)",
    "drop_last_half_term": "Fall in the last half term (percentage points)",
    "improved_pct": "Improved (%)",
    "mean_change_pp": "Average change (percentage points)",
    "estimate_pp": "Estimated effect (percentage points)",
    "difference_in_differences": "Difference in differences (percentage points)",
    "ci_low": "95% interval, lower",
    "ci_high": "95% interval, upper",
    "p_value": "p-value",
    "odds_ratio": "Odds ratio",
    "smd_before": "Standardised difference before matching",
    "smd_after": "Standardised difference after matching",
    "fsm_pct": "Free school meals (%)",
    "sen_support_pct": "SEN support (%)",
    "ehc_plan_pct": "EHC plan (%)",
    "open_service_pct": "With a service open (%)",
    "primary_phase_pct": "In primary schools (%)",
    "no_absence_pct": "No absence (%)",
    "persistent_pct": "Persistent absence (%)",
    "not_pa_next_year_pct": "Not persistently absent the next year (%)",
    "read_pct": "Reading (%)",
    "writ_pct": "Writing (%)",
    "mat_pct": "Maths (%)",
    "rwm_pct": "Reading, writing and maths (%)",
    "read_expected": "Reading: expected standard",
    "writ_expected": "Writing: expected standard",
    "mat_expected": "Maths: expected standard",
    "rwm_expected": "Reading, writing and maths: expected standard",
    "em_4plus": "Grade 4 or above in English and maths",
    "em_5plus": "Grade 5 or above in English and maths",
    "em_4plus_pct": "Grade 4 or above in English and maths (%)",
    "em_5plus_pct": "Grade 5 or above in English and maths (%)",
    "attainment8_mean": "Attainment 8 (average)",
    "attainment8": "Attainment 8",
    # measures (values of a "measure" column)
    "overall_absence": "Overall absence",
    "authorised_absence": "Authorised absence",
    "unauthorised_absence": "Unauthorised absence",
    "persistent_absence": "Persistent absence",
    "severe_absence": "Severe absence",
    "attendance": "Attendance",
    "improved_after_12_weeks": "Attendance improved after 12 weeks",
    "persistent_absent": "Persistently absent",
    "severe_absent": "Severely absent",
    "at_risk_falling": "At risk of persistent absence, attendance falling",
    "penalty_threshold": "Reached the penalty-notice threshold",
    "pa_next_year": "Persistently absent the next year",
    "not_pa_next_year": "Not persistently absent the next year",
    # parameter values
    "dfe": "DfE-comparable (aged 5 to 15)",
    "all": "All",
    "cbc": "Comparison built by matching pupils",
    "weeks_before": "The weeks before the intervention",
    "autumn_spring": "Autumn and spring terms",
    "year_to_date": "Year to date",
    "autumn": "Autumn term",
    "spring": "Spring term",
    "summer": "Summer term",
    "year": "Full year",
    # phases and groups (values)
    "primary": "Primary",
    "secondary": "Secondary",
    "special": "Special",
    "alternative_provision": "Alternative provision",
    "all_through": "All-through",
    "nursery": "Nursery",
    "sen_support": "SEN support",
    "ehc_plan": "EHC plan",
    "social_worker": "With a social worker",
    "early_help": "Early help",
    "youth_justice": "Youth justice",
    "other_services": "Other services",
    "attendance_team": "Attendance team",
    "open_service": "Service open",
    "eligible": "Eligible",
    "not_eligible": "Not eligible",
    "five_categories": "The five attendance categories",
    # private counts behind a share (used by disclosure control; labelled for the workbook)
    "share_enrolments": "Enrolments counted in the share",
    "previous_year_share_enrolments": "Enrolments counted in the share, a year earlier",
    "this_term_share_enrolments": "Enrolments counted in the share, this term",
    "previous_term_share_enrolments": "Enrolments counted in the share, last term",
    "previous_year_sessions": "Sessions, a year earlier",
    "previous_year_sessions_possible": "Possible sessions, a year earlier",
    # impact parameters, methods and their columns
    "weeks": "Review window (weeks)",
    "baseline": "Baseline period",
    "comparison": "Comparison group",
    "treated": "Supported pupils",
    "method": "Method",
    "before_after": "Before and after, supported pupils only",
    "pre_trend_placebo": "Placebo check, earlier window to baseline",
    "days_gained": "Days gained per child",
    "effect_size": "Standardised effect size",
    "n_schools": "Schools",
    "covariate": "Characteristic",
    "unmatched_reason": "Why not matched",
}

#: What each GSS/EES symbol means (for table footnotes and the workbook's Notes sheet).
SYMBOL_MEANINGS: dict[str, str] = {
    "c": "confidential: suppressed so that no pupil can be identified",
    "x": "not available",
    "z": "not applicable",
    "low": "a positive figure that rounds to zero",
}

_ACRONYMS = frozenset(
    "pa sa la urn upn fsm fsm6 sen ehc eal cin cpp cla ks1 ks2 ks4 rwm ci smd dfe tsm ap".split()
)


def fallback_words(name: str) -> str:
    """Words for a name not in the glossary: ``foo_bar_pct`` -> ``Foo bar (%)``.

    Underscores never survive, file names are reduced to words (``pupils.csv`` -> ``Pupils``).
    """
    text = str(name)
    if re.fullmatch(r"[\w.-]+\.(?:csv|parquet|ya?ml|xlsx|json|ipynb)", text):
        text = PurePath(text).stem
    text = re.sub(r"_pct$", " (%)", text)
    text = re.sub(r"_pp$", " (percentage points)", text)
    words = [w.upper() if w.lower() in _ACRONYMS else w for w in re.split(r"[_\s]+", text) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _composed(name: str) -> str | None:
    for prefix, words in (
        ("previous_year_", "a year earlier"),
        ("last_year_", "a year earlier"),
        ("la_", "LA"),
    ):
        if name.startswith(prefix) and name[len(prefix) :] in LABELS:
            base = LABELS[name[len(prefix) :]]
            if prefix == "la_":
                return f"LA {base[:1].lower()}{base[1:]}"
            stem, pct = (base[:-4], " (%)") if base.endswith(" (%)") else (base, "")
            return f"{stem}, {words}{pct}"
    for suffix in ("_comparison", "_treated"):
        if name.endswith(suffix) and name[: -len(suffix)] in LABELS:
            who = "comparison pupils" if suffix == "_comparison" else "pupils supported"
            return f"{LABELS[name[: -len(suffix)]]}, {who}"
    if name.endswith("_pct") and name[:-4] in LABELS:
        return f"{LABELS[name[:-4]]} (%)"
    if name.endswith("_pct") and f"{name[:-4]}_enrolments" in LABELS:
        return f"{LABELS[name[:-4] + '_enrolments']} (%)"
    area = re.fullmatch(r"([a-z0-9_]+)_(pct|basis|period)", name)
    if area:  # comparator columns: england_pct, yorkshire_and_the_humber_period
        place = fallback_words(area.group(1)).replace(" And ", " and ")
        what = {"pct": "(%)", "basis": "basis", "period": "period"}[area.group(2)]
        return f"{place} {what}"
    return None


def has_label(name: str) -> bool:
    """True when the glossary knows ``name`` (directly or built from known parts)."""
    return str(name) in LABELS or _composed(str(name)) is not None


def label(name: str) -> str:
    """A name in words for readers: a column head, measure, parameter name or value.

    Text that is not a bare identifier (it has spaces or capitals, a school's name, say) is
    returned unchanged.
    """
    text = str(name)
    if text in LABELS:
        return LABELS[text]
    if not re.fullmatch(r"[a-z0-9_.]+", text) or "_" not in text and "." not in text:
        return text
    return _composed(text) or fallback_words(text)


def labels_for(columns: Iterable[str]) -> dict[str, str]:
    """``{column: label}`` for a table's columns (workbook headers, CSV metadata)."""
    return {str(c): label(c) for c in columns}


def value_words(value: object) -> str:
    """A parameter or cell value for readers: known codes in words, lists joined."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(value_words(v) for v in value) or "none"
    return label(str(value))
