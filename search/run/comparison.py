"""Found nets against known nets: sentences the measurements support, and nothing more.

Each known net is compared with one front member: the fastest member whose
accuracy is supported as at least as high, else the fastest whose accuracy
difference is within noise, else the most accurate member.

* Accuracy: the final protocol gives each net a mean over seeds with a 95%
  t-interval.  The difference of the means gets a Welch-style interval from
  the two intervals; "more accurate" needs it above 0, "as accurate as" needs
  it to rule out a loss of more than :data:`NONINFERIORITY_MARGIN`, "less
  accurate" needs it below 0; anything else is "within noise".
* Latency: "N x faster" needs the member's median plus its spread to stay
  below the known net's median minus its spread ("N x slower" the mirror);
  otherwise the latency difference is within noise.
* A known net whose accuracy is within :data:`UNDERTRAINED_MARGIN` of chance
  was not trained enough by this recipe to be compared: it is flagged
  undertrained, never reported as beaten.
* Figures from different recipes (the final protocol's accuracy, a single
  proxy run's score) are never set against each other.  Without intervals on
  both sides (``--final-seeds 0``, or a net the deadline left one seed) a
  comparison is untested, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from search.run.final_front import final_latency, final_quality, reported_accuracy
from search.run.records import TrialRecord

NONINFERIORITY_MARGIN = 0.01
UNDERTRAINED_MARGIN = 0.2  # of the way from chance to perfect accuracy


@dataclass(frozen=True)
class Figures:
    mean: float  # the final protocol's mean accuracy, else the proxy's score (what the search maximised)
    low: float | None  # 95% interval of the mean accuracy; None for a single run
    high: float | None
    seeds: int
    latency_ms: float
    spread_ms: float
    accuracy: float | None  # the final protocol's mean accuracy, else the proxy's (None for a training-free proxy)
    final: bool  # whether ``mean`` comes from the final protocol (else from one proxy run)

    @classmethod
    def of(cls, record: TrialRecord) -> Figures | None:
        quality, latency = final_quality(record), final_latency(record)
        if quality is None or latency is None:
            return None
        spread = record.remeasured_spread_ms if record.remeasured_latency_ms is not None else record.latency_spread_ms
        return cls(quality, _number(record.final_ci_low), _number(record.final_ci_high),
                   int(record.final_seeds or 1), latency, _number(spread) or 0.0, reported_accuracy(record),
                   final=record.final_accuracy is not None)

    def label(self, proxy_score: str) -> str:
        """What ``mean`` is: the final protocol's accuracy (with one seed or several), else the proxy's score, named."""
        return "accuracy" if self.final else proxy_score

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def accuracy_text(self) -> str:
        if self.has_interval:
            return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}] ({self.seeds} seeds)"
        if self.final:
            return f"{self.mean:.4f} ({self.seeds} seed{'s' if self.seeds != 1 else ''}, no interval)"
        # A proxy score such as accuracy x likelihood is not an accuracy; the accuracy beside it is what a reader wants.
        beside = "" if self.accuracy is None or self.accuracy == self.mean else f"; accuracy {self.accuracy:.4f}"
        return f"{self.mean:.4f} (1 run{beside})"

    def latency_text(self) -> str:
        return f"{self.latency_ms:.2f} ± {self.spread_ms:.2f} ms"


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def chance_of(record: TrialRecord) -> float:
    from searchspace import decode

    return 1.0 / decode(record.spec).num_classes


def undertrained(figures: Figures, chance: float) -> bool:
    """Judged on accuracy, not on a proxy score that also weighs the net's confidence."""
    accuracy = figures.accuracy if figures.accuracy is not None else figures.mean
    return accuracy < chance + UNDERTRAINED_MARGIN * (1.0 - chance)


def difference_interval(a: Figures, b: Figures) -> tuple[float, float] | None:
    """95% interval of mean(a) - mean(b), from each mean's own interval (half-widths add in quadrature)."""
    if not (a.has_interval and b.has_interval):
        return None
    half = math.hypot((a.high - a.low) / 2, (b.high - b.low) / 2)
    difference = a.mean - b.mean
    return difference - half, difference + half


def accuracy_verdict(member: Figures, known: Figures) -> str:
    """'more accurate than', 'as accurate as', 'less accurate than' or 'within noise of'."""
    interval = difference_interval(member, known)
    if interval is None:
        return "untested against"
    low, high = interval
    if low > 0:
        return "more accurate than"
    if low >= -NONINFERIORITY_MARGIN:
        return "as accurate as"
    if high < 0:
        return "less accurate than"
    return "within noise of"


def speedup(member: Figures, known: Figures) -> float | None:
    """How many times faster the member is, when the spreads support it; else None."""
    if member.latency_ms + member.spread_ms < known.latency_ms - known.spread_ms:
        return known.latency_ms / member.latency_ms
    return None


def compare(front: list[TrialRecord], known: TrialRecord) -> str:
    """One line: the known net's figures and what the front can honestly say against it."""
    name = known.baseline
    figures = Figures.of(known)
    if figures is None:
        return f"  {name}: not evaluated ({known.error or known.state})"
    head = f"  {name:<22} {figures.label('proxy score')} {figures.accuracy_text()} at {figures.latency_text()}"
    chance = chance_of(known)
    if undertrained(figures, chance):
        return head + f": undertrained by this recipe (chance is {chance:.2f}); not a comparison"
    members = [(r, Figures.of(r)) for r in front]
    members = [(r, f) for r, f in members if f is not None]
    if not members:
        return head + ": no found net to compare"
    record, mine = _member_for(members, figures)
    return head + ": " + _sentence(record.number, mine, name, figures, known.final_skipped)


def _member_for(members: list[tuple[TrialRecord, Figures]], known: Figures) -> tuple[TrialRecord, Figures]:
    """The fastest member supported as at least as accurate, else the fastest within noise of it (what a reader
    weighing a swap wants to know), else the closest that can be set against it."""
    verdicts = [(r, f, accuracy_verdict(f, known)) for r, f in members]
    for wanted in (("more accurate than", "as accurate as"), ("within noise of",)):
        matching = [(r, f) for r, f, verdict in verdicts if verdict in wanted]
        if matching:
            return min(matching, key=lambda m: m[1].latency_ms)
    return _closest(members, known)


def _closest(members: list[tuple[TrialRecord, Figures]], known: Figures) -> tuple[TrialRecord, Figures]:
    """With no member supported as at least as accurate or within noise: the most accurate of those that can be set
    against the known net (same recipe, then an interval on both sides), so a one-seed mean never hides a tested
    comparison."""
    return max(members, key=lambda m: (m[1].final == known.final, difference_interval(m[1], known) is not None,
                                       m[1].mean))


def _sentence(number: int, mine: Figures, name: str, known: Figures, why_not_final: str | None = None) -> str:
    if mine.final != known.final:  # a final mean and a proxy score come from different recipes
        if mine.final and why_not_final:
            return f"not compared: {why_not_final}"
        untrained = name if mine.final else f"#{number}"
        return f"not compared: {untrained} has no final-protocol figures (the time limit left it out)"
    verdict = accuracy_verdict(mine, known)
    faster, slower = speedup(mine, known), speedup(known, mine)
    speed = (f"{faster:.1f}x faster" if faster else f"{slower:.1f}x slower" if slower
             else "its latency difference is within noise")
    if verdict == "untested against":
        runs = "a final mean without an interval" if mine.final else "single proxy runs, no interval"
        return f"#{number} has {mine.mean:.4f} at {mine.latency_ms:.2f} ms ({runs}: not a tested claim; {speed})"
    if verdict == "within noise of":
        interval = difference_interval(mine, known)
        return (f"the accuracy difference to #{number} is within noise ({mine.mean - known.mean:+.4f}, "
                f"95% CI [{interval[0]:+.4f}, {interval[1]:+.4f}]); #{number}: {speed}")
    if faster:
        return f"#{number} is {verdict} {name} and {speed}"
    if slower:
        return f"#{number} is {verdict} {name} but {speed}"
    return f"#{number} is {verdict} {name}; the latency difference is within noise"
