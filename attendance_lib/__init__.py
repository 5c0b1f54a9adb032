"""attendance_lib: DfE-correct school attendance figures and reports for local authorities.

The data flows one way:

contract (read + validate a data folder) -> engine (register codes, windows, session counts)
-> analyses (bands, impact, strategy) -> present (tables, charts, sentences)
-> runner (params files, papermill, nbconvert, publishing).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("attendance-workbench")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
