"""The tests' oracle, tests/_reference.py, for the bench scripts that measure
accuracy (``python bench/accuracy_report.py`` and the like): ``from _oracle
import ref``.  It needs SciPy and mpmath, as the tests do."""
import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

import _reference as ref  # noqa: E402,F401
