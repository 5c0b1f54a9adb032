"""Run the command line as ``python -m attendance_lib``."""

from attendance_lib.cli import main

raise SystemExit(main())
