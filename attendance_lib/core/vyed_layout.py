"""The column layout of the DfE weekly pupil-level download ("Monitor your school attendance").

Shared by the importer (:mod:`attendance_lib.importers.vyed`), which reads it, and the
synthetic LA (:mod:`attendance_lib.synth.vyed`), which writes it: both import it from here,
the one layer below them both.
"""

#: The columns of the download, in order, as NCER documents the DfE layout (lower case; the
#: importer matches headers case-insensitively).
VYED_LAYOUT: tuple[str, ...] = (
    "academic_term",
    "upn",
    "dob",
    "sex",
    "ethnicity",
    "english_additional_language",
    "compulsory_school_age",
    "sen_support",
    "free_school_meals",
    "education_health_care_plan",
    "primary_sen_type",
    "secondary_sen_type",
    "looked_after_child",
    "previously_looked_after_child",
    "child_in_need",
    "child_protection_plan",
    "persistently_absent",
    "severely_absent",
    "unique_reference_number",
    "year_group",
    "school_local_authority_ukprn",
    "school_local_authority_name",
    "home_local_authority_ukprn",
    "home_local_authority_name",
    "learning_provider_ukprn",
    "school_name",
    "phase",
    "pupil_surname",
    "pupil_forename",
    "admission_date",
    "leaving_date",
    "full_days_missed",
    "possible_sessions",
    "absent_sessions",
    "present_sessions",
    "approved_educational_activity_sessions",
    "authorised_absent_sessions",
    "unauthorised_absent_sessions",
)
