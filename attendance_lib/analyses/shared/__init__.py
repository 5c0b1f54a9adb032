"""Shared by several report families: the DfE cohort, pupil characteristics, the overview."""
