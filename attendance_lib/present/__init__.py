"""Presentation: the one way notebooks show tables, charts and sentences, and disclosure control.

Notebooks use ``from attendance_lib import present`` and call ``present.say``,
``present.publish_table``, ``present.figure``, ``present.show_figure``, ``present.show_shared_figure``,
``present.report_header`` (``present.period_between`` words a period) and
``present.provenance_footer`` (``present.strong`` marks
emphasis in a sentence). Modules:

- :mod:`~attendance_lib.present.notebook`: those functions, and the MIME types that carry a
  published table or the provenance from the notebook to the runner;
- :mod:`~attendance_lib.present.disclosure`: disclosure control (primary and secondary
  suppression, by audience);
- :mod:`~attendance_lib.present.labels`: the one glossary of names in words (``label``);
- ``templates/``: the nbconvert template the runner exports HTML with.
"""

from attendance_lib.core.markup import strong
from attendance_lib.present.disclosure import AUDIENCES
from attendance_lib.present.labels import label, labels_for
from attendance_lib.present.notebook import (
    HEADER_MIME,
    OKABE_ITO,
    PROVENANCE_MIME,
    TABLE_MIME,
    figure,
    format_p,
    period_between,
    provenance_footer,
    publish_table,
    report_header,
    say,
    show_figure,
    show_shared_figure,
)

__all__ = [
    "HEADER_MIME",
    "AUDIENCES",
    "format_p",
    "label",
    "labels_for",
    "OKABE_ITO",
    "PROVENANCE_MIME",
    "TABLE_MIME",
    "figure",
    "period_between",
    "provenance_footer",
    "publish_table",
    "report_header",
    "say",
    "show_figure",
    "show_shared_figure",
    "strong",
]
