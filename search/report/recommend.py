"""Which net to pick for the budget, by a rule the page states in full.

Rule: among the delivered front's members whose latency (re-measured where it
was) fits the budget, take the most accurate by the final protocol's mean
(the proxy's figure where the final protocol did not run).  If other members
are faster and the two are within noise of each other, take the fastest of them
instead.  Within noise: their 95% intervals overlap, or one of them was trained
by the final protocol with a single seed and its accuracy lies inside the
other's interval (that one seed is a draw the other net's seeds also reach).
"""

from __future__ import annotations

from dataclasses import dataclass

from search.report.data import RunData, records
from search.run.comparison import Figures

RULE = ("Among the front members whose latency (re-measured where it was) fits the budget, the most accurate by "
        "final-protocol mean (the proxy's figure where there is none); if a faster member is within noise of it (their "
        "95% intervals overlap, or one has a single final-protocol seed whose accuracy lies inside the other's "
        "interval), the fastest such member is recommended instead.")


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
    close = [(r, f, why) for r, f in fitting if f.latency_ms < best.latency_ms and (why := _noise_evidence(best, f))]
    if not close:
        reason = f"the most accurate front member within {_budget_text(budget)}"
        return Recommendation(int(best_record.number), str(best_record.spec), best, reason + _interval_note(best))
    record, figures, why = min(close, key=lambda m: m[1].latency_ms)
    reason = (f"#{int(best_record.number)} is the most accurate within {_budget_text(budget)} ({best.mean:.4f} at "
              f"{best.latency_ms:.2f} ms), but {why}: the accuracy difference "
              f"({figures.mean - best.mean:+.4f} for this net) is within noise, so the faster net is the pick")
    return Recommendation(int(record.number), str(record.spec), figures, reason)


def _noise_evidence(best: Figures, faster: Figures) -> str | None:
    """Why ``best`` and a faster member are within noise, in words for the page; None when the figures do not say so."""
    if best.has_interval and faster.has_interval:
        overlap = faster.low <= best.high and best.low <= faster.high
        return "its 95% interval overlaps this faster net's" if overlap else None
    if _single_seed_inside(best, faster):
        return "its one seed's accuracy lies inside this faster net's 95% interval"
    if _single_seed_inside(faster, best):
        return "this faster net's one seed's accuracy lies inside its 95% interval"
    return None


def _single_seed_inside(single: Figures, other: Figures) -> bool:
    """Whether ``single``, a one-seed final-protocol accuracy, lies inside ``other``'s interval.  A proxy score is
    not an accuracy of the final protocol's training, so it is never compared with that interval."""
    return (single.final and not single.has_interval and other.has_interval
            and other.low <= single.mean <= other.high)


def _budget_text(budget: float | None) -> str:
    return f"the {budget:g} ms budget" if budget is not None else "the front (the run had no latency budget)"


def _interval_note(figures: Figures) -> str:
    if figures.has_interval:
        return ""
    if figures.final:
        return "; it has no confidence interval (the final protocol trained it with one seed)"
    return "; it has no confidence interval (the final protocol did not train it: a single proxy run)"
