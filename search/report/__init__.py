"""``search report``: the run folder as a page a person would rather look at than read.

``write_report(run_dir)`` writes ``report.html`` (self-contained) and the same
figures as PNG files under ``plots/``; ``summary(run_dir)`` is the short text
for the terminal. The names are imported on first use (see
searchspace.lazy_exports): ``load_run`` reads and checks a run folder without
torch or matplotlib, so a missing or damaged run is refused in little memory.
"""

from searchspace.lazy_exports import export_lazily

__all__ = export_lazily(__name__, {
    "search.report.data": ("load_run",),
    "search.report.page": ("TOP_KNOBS", "summary", "summary_of", "write_report", "write_report_of"),
})
