"""Stage 6: results -> ``report.html`` (self-contained, figures embedded) and ``report.md``.

The only package that imports matplotlib (in :mod:`matchsim.report.figures`, and the
stages' own ``figures`` modules that it calls).
"""

from matchsim.report.render import RESULTS_FILE, render_report, write_report

__all__ = ["RESULTS_FILE", "render_report", "write_report"]
