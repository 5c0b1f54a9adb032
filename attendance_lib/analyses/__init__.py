"""Analyses: one module per report family; pure functions returning DataFrames."""
