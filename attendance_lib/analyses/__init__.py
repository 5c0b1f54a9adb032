"""Analyses: one folder per report family; pure functions returning DataFrames and sentences.

- ``shared/``: what several families use (the DfE cohort, pupil characteristics, the
  dataset overview);
- ``attainment/``: KS2 and KS4 outcomes by attendance band;
- ``impact/``: the 12-week impact evaluation and its secondary measures;
- ``strategy/``: the termly strategy report and the school Targeting Support Meeting packs;
- ``cohort/``: cohort identification for officers.

A family imports ``shared/`` and itself, never another family.
"""
