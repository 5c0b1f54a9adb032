"""The 12-week impact evaluation: windows, measures, the matched comparison group."""
