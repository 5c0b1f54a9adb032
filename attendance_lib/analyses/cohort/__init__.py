"""Cohort identification: persistently absent pupils with no other professional involved."""
