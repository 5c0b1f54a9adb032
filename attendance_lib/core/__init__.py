"""What every layer shares, at the bottom: nothing here imports any other layer.

- :mod:`~attendance_lib.core.errors`: the exceptions (``DataError`` with its problems,
  ``UsageError``, ``ReportError``);
- :mod:`~attendance_lib.core.codes`: the register code table, the only place codes are listed;
- :mod:`~attendance_lib.core.academic_calendar`: academic years, terms, half terms, ages;
- :mod:`~attendance_lib.core.numbers`: half-up rounding and the suppression symbol;
- :mod:`~attendance_lib.core.marks_sql`: the one SQL definition of session counting;
- :mod:`~attendance_lib.core.sql_engines`: DuckDB and Spark, which run that SQL;
- :mod:`~attendance_lib.core.files`: atomic writes;
- :mod:`~attendance_lib.core.markup`: the safe markup of sentences (escaped text, ``strong``).
"""
