"""Which net to pick for the budget, by a rule the page states in full.

Rule: among the delivered front's members whose latency (re-measured where it
was) fits the budget, take the most accurate by the final protocol's mean
(the proxy's figure where the final protocol did not run).  If other members
are faster and their 95% interval overlaps that net's, the accuracy difference
is within noise: take the fastest of them instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.report.data import RunData, records
from search.run.comparison import Figures

RULE = ("Among the front members whose latency (re-measured where it was) fits the budget, the most accurate by "
        "final-protocol mean (the proxy's figure where there is none); if a faster member's 95% interval overlaps "
        "its interval, the difference is within noise and the fastest such member is recommended instead.")


@dataclass(frozen=True)
class Recommendation:
    number: int | None  # None: no member fits the budget
    spec: str
    figures: Figures | None
    reason: str

    def headline(self, objective: str) -> str:
        """``#N: accuracy mean [low, high] (k seeds), latency ms`` (the proxy's score without a final protocol), or why
        there is no pick."""
        if self.number is None:
            return f"none: {self.reason}"
        return f"#{self.number}: {self.figures.label(objective)} {self.figures.accuracy_text()}, latency {self.figures.latency_text()}"


def recommend(data: RunData) -> Recommendation:
    budget = data.config.budget_ms
    members = [(r, Figures.of(r)) for r in records(data.front)]
    members = [(r, f) for r, f in members if f is not None]
    fitting = [(r, f) for r, f in members if budget is None or f.latency_ms <= budget]
    if not fitting:
        why = "no net is on the front" if not members else f"no front member's latency fits the {budget:g} ms budget"
        return Recommendation(None, "", None, why)
    best_record, best = max(fitting, key=lambda m: (m[1].mean, -m[1].latency_ms))
    close = [(r, f) for r, f in fitting if f.latency_ms < best.latency_ms and _overlap(f, best)]
    if not close:
        reason = f"the most accurate front member within {_budget_text(budget)}"
        return Recommendation(int(best_record.number), str(best_record.spec), best, reason + _interval_note(best))
    record, figures = min(close, key=lambda m: m[1].latency_ms)
    reason = (f"#{int(best_record.number)} is the most accurate within {_budget_text(budget)} ({best.mean:.4f} at "
              f"{best.latency_ms:.2f} ms), but its 95% interval overlaps this faster net's: the accuracy difference "
              f"({figures.mean - best.mean:+.4f} for this net) is within noise, so the faster net is the pick")
    return Recommendation(int(record.number), str(record.spec), figures, reason)


def _overlap(a: Figures, b: Figures) -> bool:
    return a.has_interval and b.has_interval and a.low <= b.high and b.low <= a.high


def _budget_text(budget: float | None) -> str:
    return f"the {budget:g} ms budget" if budget is not None else "the front (the run had no latency budget)"


def _interval_note(figures: Figures) -> str:
    if figures.has_interval:
        return ""
    if figures.final:
        return "; it has no confidence interval (the final protocol trained it with one seed)"
    return "; it has no confidence interval (the final protocol did not train it: a single proxy run)"
