"""Rank statistics of each proxy against the long-training reference.

Every score is oriented so that higher means a better net.  Intervals are
percentile bootstraps over nets (the nets are the sample; resampling them asks
how much the correlation depends on which nets happened to be drawn).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.stats import kendalltau, rankdata, spearmanr

from benchmarks.fidelity.halving import halving_summary
from benchmarks.fidelity.jobs import ZERO_COST
from benchmarks.fidelity.picks import TOP_K, budgeted_floors, budgeted_pick_regret_points, pick_regret_points, top_k_contains_best
from benchmarks.fidelity.variants import AT_TWICE_THE_LENGTH, BY_NAME, DEFAULT_PROXY, DEVICE, PROXIES, REFERENCE, Variant, shorter_versions
from search.run.scores import ACCURACY_X_LIKELIHOOD, proxy_quality

BOOTSTRAP_RESAMPLES = 2000
# Where each score's figures keep paired_difference against the default proxy's accuracy, against the default's
# search score (a candidate default is judged like for like), and against MACs: a score that ranks no better than
# counting multiply-adds is not worth its seconds.
PAIRED_WITH_DEFAULT = f"minus_{DEFAULT_PROXY}_accuracy"
PAIRED_WITH_DEFAULT_SCORE = f"minus_{DEFAULT_PROXY}_{ACCURACY_X_LIKELIHOOD}"
PAIRED_WITH_MACS = "minus_macs"
# Where each score's figures keep its Spearman against each reference seed alone (seed 0's first).
AGAINST_EACH_SEED = "spearman_against_each_reference_seed"
REGRET_AGAINST_EACH_SEED = "pick_regret_points_against_each_reference_seed"
BUDGETED_REGRET_AGAINST_EACH_SEED = "budgeted_pick_regret_points_against_each_reference_seed"
SIZE_BIAS = "rank_error_against_macs"
# Training-free scores combined with the training-speed estimate, as AZ-NAS
# combines complementary zero-cost proxies and FLOPs by summing their ranks.
ZERO_COST_COMBINATION = ("synflow", "naswot", "macs")
# The scores a proxy trained with two seeds is also judged on averaged over them: both figures it reports, and the
# search's own score.
TWO_SEED_SCORES = ("accuracy", "tse", ACCURACY_X_LIKELIHOOD)
# Every dataset the benchmark offers (digits, mnist5k, shapes) has ten classes.
CLASSES = 10
# How far above its floor a reference's final training loss may end for the net to count as fitted: on shapes
# the AdamW reference's seeds of nets ending below 0.8 (floor 0.50) landed a median 1.6 points apart, of the
# others 7.1 (docs/proxy.md).
FITTED_MARGIN = 0.3


def _rank_mean(columns: list[np.ndarray]) -> np.ndarray:
    return np.mean([rankdata(column) for column in columns], axis=0)


def _spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair: Pearson's correlation of average ranks, as scipy computes it."""
    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=1) / np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))


def _kendall_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row pair, from the signs of all pairwise differences."""
    sx = np.sign(x[:, :, None] - x[:, None, :])
    sy = np.sign(y[:, :, None] - y[:, None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sx * sy).sum(axis=(1, 2)) / np.sqrt(np.abs(sx).sum(axis=(1, 2)) * np.abs(sy).sum(axis=(1, 2)))


def _interval(values: np.ndarray) -> list[float]:
    """The 95% percentile interval of bootstrap values; NaNs (resamples with no spread) are left out."""
    return [round(float(v), 4) for v in np.nanpercentile(values, [2.5, 97.5])]


def _bootstrap(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[list[float], list[float]]:
    picks = rng.integers(0, len(x), (BOOTSTRAP_RESAMPLES, len(x)))
    return _interval(_spearman_rows(x[picks], y[picks])), _interval(_kendall_rows(x[picks], y[picks]))


def correlation(x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    if len(x) < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"count": len(x), "spearman": None, "kendall": None}
    spearman_ci, kendall_ci = _bootstrap(x, y, np.random.default_rng(seed))
    return {"count": len(x), "spearman": round(float(spearmanr(x, y).statistic), 4), "spearman_ci95": spearman_ci,
            "kendall": round(float(kendalltau(x, y).statistic), 4), "kendall_ci95": kendall_ci}


def paired_difference(score: np.ndarray, baseline: np.ndarray, reference: np.ndarray, seed: int) -> dict[str, Any]:
    """Spearman(score, reference) minus Spearman(baseline, reference), with a bootstrap interval that resamples
    the same nets for both: the two correlations share those nets, so they covary, which two separate
    intervals cannot show (whether their overlap means "within noise" is not known from them)."""
    if len(score) < 4 or min(np.ptp(reference), np.ptp(score), np.ptp(baseline)) == 0:  # a constant has no rank correlation
        return {"count": len(score), "spearman_difference": None}
    picks = np.random.default_rng(seed).integers(0, len(score), (BOOTSTRAP_RESAMPLES, len(score)))
    differences = _spearman_rows(score[picks], reference[picks]) - _spearman_rows(baseline[picks], reference[picks])
    estimate = spearmanr(score, reference).statistic - spearmanr(baseline, reference).statistic
    return {"count": len(score), "spearman_difference": round(float(estimate), 4), "ci95": _interval(differences)}


def size_bias(score: np.ndarray, reference: np.ndarray, macs: np.ndarray, seed: int) -> dict[str, Any]:
    """Spearman of each net's rank error (its rank under ``score`` minus its rank under the reference) with its
    MACs: above 0 the score ranks bigger nets higher than the reference does, below 0 it favours small ones, as a
    short training does when big nets fit slowly but generalise better.  Which way a score errs says what could
    correct it; a score with no rank error has no figure."""
    figures = correlation(rankdata(score) - rankdata(reference), macs, seed)
    return {"spearman": figures["spearman"], "spearman_ci95": figures.get("spearman_ci95")}


def _accuracy(rows: dict[str, dict], label: str, name: str, seed: int) -> float | None:
    """Variant ``name``'s accuracy for one net and seed; a best-of reference's is its best part's (all must be there)."""
    parts = BY_NAME[name].best_of
    if not parts:
        return rows.get(f"{label}|{name}|{seed}", {}).get("accuracy")
    values = [rows.get(f"{label}|{part}|{seed}", {}).get("accuracy") for part in parts]
    return None if None in values else max(values)


def _reference(rows: dict[str, dict], labels: list[str], seeds: tuple[int, ...], name: str) -> dict[str, list[float]]:
    """Each net's accuracy per seed under the reference ``name``; nets missing a seed or failing are left out."""
    table = {}
    for label in labels:
        values = [_accuracy(rows, label, name, seed) for seed in seeds]
        if all(value is not None for value in values):
            table[label] = values
    return table


def _proxy_scores(rows: dict[str, dict], labels: list[str], variant: str, seed: int) -> dict[str, np.ndarray] | None:
    found = [rows.get(f"{label}|{variant}|{seed}") for label in labels]
    if any(row is None for row in found):
        return None
    # A failed proxy training is the worst possible score: the search would discard that net.
    accuracy = np.array([row.get("accuracy", 0.0) for row in found], dtype=float)
    neg_tse = -_worst_for_failures([row.get("tse", math.inf) for row in found])
    scores = {"accuracy": accuracy, "tse": neg_tse, "accuracy+tse": _rank_mean([accuracy, neg_tse]),
              "seconds": np.array([row.get("wall_seconds", np.nan) for row in found], dtype=float)}
    # Rows from before trainings recorded the held-out loss have none: the score is judged once every net's row has.
    if all(row.get("val_loss") is not None or "failure" in row for row in found):
        scores["val_loss"] = -_worst_for_failures([row.get("val_loss", math.inf) for row in found])
        # The search's default score (search.run.scores), computed by the search's own function.
        scores[ACCURACY_X_LIKELIHOOD] = np.array([proxy_quality(row.get("accuracy", 0.0), row.get("val_loss", math.inf),
                                                                ACCURACY_X_LIKELIHOOD) for row in found])
    return scores


def _worst_for_failures(losses: list[float]) -> np.ndarray:
    """Losses (lower is better) with a failed training's infinity replaced by ten times the worst finite one, so
    that it ranks last without breaking a rank mean."""
    values = np.array(losses, dtype=float)
    finite = np.isfinite(values)
    return np.where(finite, values, values[finite].max() * 10 if finite.any() else 0.0)


def _zero_cost_scores(rows: dict[str, dict], labels: list[str]) -> dict[str, np.ndarray] | None:
    found = [rows.get(f"{label}|zero_cost|0") for label in labels]
    if any(row is None for row in found):
        return None
    from evaluators.zero_cost import methods as scored_methods

    # The scores the job computes, not every other field: rows also say which code and device made them.
    methods = [method for method in scored_methods() if method in found[0]]
    scores = {}
    for method in methods:
        values = np.array([np.nan if row.get(method) is None else row[method] for row in found], dtype=float)
        scores[method] = np.where(np.isfinite(values), values, np.nanmin(values[np.isfinite(values)]) if np.isfinite(values).any() else 0.0)
    scores["seconds"] = np.array([row["wall_seconds"] for row in found], dtype=float)
    return scores


def _macs(labels: list[str], nets: dict[str, dict], zero_cost: dict[str, np.ndarray] | None) -> np.ndarray | None:
    """Each net's MACs as the training-free job counted them at the proxy's resolution, else as the net list has them."""
    if zero_cost is not None and "macs" in zero_cost:
        return zero_cost["macs"]
    if all("macs" in nets[label] for label in labels):
        return np.array([float(nets[label]["macs"]) for label in labels])
    return None


def known_net_accuracies(rows: dict[str, dict], nets: list[dict], reference: Variant = REFERENCE) -> dict[str, Any]:
    """Per variant, each known net's accuracy (seed 0), and the weakest: every known net has to learn."""
    table = {}
    for variant in (reference, *PROXIES):
        found = {net["label"]: _accuracy(rows, net["label"], variant.name, 0) for net in nets if net["known"]}
        if found and all(value is not None for value in found.values()):
            table[variant.name] = {"min": round(min(found.values()), 4), "accuracy": {k: round(v, 4) for k, v in found.items()}}
    return table


def _reference_multiple(rows: dict[str, dict], labels: list[str], variant: str, name: str) -> float | None:
    """How many times the proxy's optimizer steps the reference ``name`` trained (the issue asks for 10 or more)."""
    trained = (BY_NAME[name].best_of or (name,))[0]  # a best-of reference's parts train the same steps
    for label in labels:
        proxy, reference = rows.get(f"{label}|{variant}|0", {}), rows.get(f"{label}|{trained}|0", {})
        if proxy.get("steps") and reference.get("steps"):
            return round(reference["steps"] / proxy["steps"], 2)
    return None


def reference_plateau(rows: dict[str, dict], labels: list[str], short: str, seed: int = 0) -> dict[str, Any] | None:
    """The nets trained at both of reference ``short``'s lengths (seed 0): what doubling it did to accuracy and ranks.

    A reference that has plateaued gains little and keeps its order; the issue asks for one.
    """
    long = AT_TWICE_THE_LENGTH[short]
    pairs = {label: (rows[f"{label}|{short}|0"]["accuracy"], rows[f"{label}|{long}|0"]["accuracy"]) for label in labels
             if "accuracy" in rows.get(f"{label}|{short}|0", {}) and "accuracy" in rows.get(f"{label}|{long}|0", {})}
    if not pairs:
        return None
    before, after = np.array(list(pairs.values())).T
    result: dict[str, Any] = {"nets": len(pairs), "mean_gain_points": round(100 * float(np.mean(after - before)), 1),
                              "accuracy_at_both_lengths": {label: [round(a, 4), round(b, 4)] for label, (a, b) in pairs.items()}}
    if len(pairs) >= 4:
        result["spearman_between_lengths"] = correlation(before, after, seed)
    return result


def reference_plateaus(rows: dict[str, dict], labels: list[str], seed: int = 0) -> dict[str, Any] | None:
    """:func:`reference_plateau` for every reference with nets trained at twice its length, by reference name."""
    checks = {short: reference_plateau(rows, labels, short, seed) for short in AT_TWICE_THE_LENGTH}
    return {short: check for short, check in checks.items() if check is not None} or None


def device_agreement(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The jobs trained on two devices with the same seed: how far apart the devices' accuracies land, in points.

    A GPU does not replay a CPU's arithmetic, so the same seed is another draw there; this is that draw's size, to set
    beside the seed gap.  A row without a device is from before rows recorded it, when every job ran on DEVICE.
    """
    by_key: dict[str, dict[str, float]] = {}
    for row in lines:
        if "accuracy" in row:
            by_key.setdefault(row["key"], {})[row.get("device", DEVICE)] = row["accuracy"]
    pairs = {key: found for key, found in by_key.items() if len(found) == 2}
    if not pairs:
        return None
    # The later device's accuracy minus the earlier's, devices in name order ("cpu" before "cuda:0").
    gaps = {key: round(100 * (found[max(found)] - found[min(found)]), 1) for key, found in pairs.items()}
    magnitudes = np.abs(list(gaps.values()))
    return {"jobs": len(gaps), "devices": sorted({device for found in pairs.values() for device in found}), "points_by_job": gaps,
            "median_abs_points": round(float(np.median(magnitudes)), 1), "max_abs_points": round(float(magnitudes.max()), 1)}


def rerun_agreement(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The jobs trained twice on the same device (``--again``): how far the first and the last run's accuracies land
    apart, in points.  With one thread per job a CPU replays its arithmetic, so anything but 0 means the recipe or
    the code changed between the runs."""
    by_run: dict[tuple[str, str], list[float]] = {}
    for row in lines:
        if "accuracy" in row:
            by_run.setdefault((row["key"], row.get("device", DEVICE)), []).append(row["accuracy"])
    gaps = {f"{key} on {device}": round(100 * (found[-1] - found[0]), 1) for (key, device), found in by_run.items() if len(found) > 1}
    if not gaps:
        return None
    return {"jobs": len(gaps), "identical": sum(gap == 0 for gap in gaps.values()), "points_by_job": gaps,
            "max_abs_points": float(np.abs(list(gaps.values())).max())}


def best_of_parts(rows: dict[str, dict], labels: list[str], reference: Variant, seed: int = 0) -> dict[str, Any] | None:
    """For a best-of reference: how often each part won (seed 0), and how well the parts agree on the order.

    Two long recipes that order the nets differently are a ceiling of their own: no proxy trained one
    way can match both.
    """
    if not reference.best_of:
        return None
    table = {label: [_accuracy(rows, label, part, 0) for part in reference.best_of] for label in labels}
    table = {label: values for label, values in table.items() if None not in values}
    if not table:
        return None
    values = np.array(list(table.values()))
    result: dict[str, Any] = {"nets": len(table), "wins": {part: int(np.sum(np.argmax(values, axis=1) == i))
                                                          for i, part in enumerate(reference.best_of)}}
    if len(table) >= 4 and len(reference.best_of) == 2:
        result["spearman_between_parts"] = correlation(values[:, 0], values[:, 1], seed)
    return result


def _seed_gap_points(per_seed: np.ndarray) -> dict[str, float]:
    """Mean, median and largest absolute difference between a net's first two reference seeds, in points."""
    gaps = 100 * np.abs(per_seed[:, 0] - per_seed[:, 1])
    return {"mean": round(float(gaps.mean()), 1), "median": round(float(np.median(gaps)), 1), "max": round(float(gaps.max()), 1)}


def smoothed_target_entropy(classes: int, smoothing: float) -> float:
    """The least cross-entropy label smoothing allows: the entropy of the smoothed target (0.50 for 0.1 over 10)."""
    high, low = 1 - smoothing + smoothing / classes, smoothing / classes
    return -(high * math.log(high) + (classes - 1) * low * math.log(low))


def loss_floor() -> float:
    """The least training loss the proxy recipe's label smoothing allows on the benchmark's ten classes."""
    from evaluators.proxy.settings import ProxySettings

    return smoothed_target_entropy(CLASSES, ProxySettings().label_smoothing)


def is_fitted(final_loss: float | np.ndarray) -> bool | np.ndarray:
    """Whether a reference run ended within FITTED_MARGIN of the loss floor: a net it fitted, not one still learning
    (elementwise for an array of losses)."""
    return final_loss <= loss_floor() + FITTED_MARGIN


def seed_gap_by_fit(rows: dict[str, dict], labels: list[str], per_seed: np.ndarray, name: str, seed: int = 0) -> dict[str, Any] | None:
    """The reference's seed gap (points) for the nets it fitted and for those it left underfitting.

    A net counts as fitted when its final training loss, averaged over both seeds, ends within FITTED_MARGIN of
    the floor label smoothing sets. A reference run until it plateaus fits nets; one stopped early leaves slow
    nets underfitting, and where such a net lands depends on its seed.
    """
    if BY_NAME[name].best_of:
        return None
    losses = np.array([np.mean([rows[f"{label}|{name}|{s}"].get("final_loss", np.nan) for s in (0, 1)]) for label in labels])
    if np.isnan(losses).any():
        return None
    floor = loss_floor()
    gaps = 100 * np.abs(per_seed[:, 0] - per_seed[:, 1])
    fitted = is_fitted(losses)

    def part(mask: np.ndarray) -> dict[str, Any]:
        return {"nets": int(mask.sum()), **({"median": round(float(np.median(gaps[mask])), 1), "max": round(float(gaps[mask].max()), 1)}
                                             if mask.any() else {})}

    return {"loss_floor": round(floor, 3), "fitted_below_loss": round(floor + FITTED_MARGIN, 3), "fitted": part(fitted),
            "underfit": part(~fitted), "gap_against_loss": correlation(gaps, losses, seed)}


@dataclass(frozen=True)
class _Judge:
    """What every score is judged against: the nets, the reference on them, and the baselines it is paired with
    (NaN where a baseline has no row for a net)."""
    labels: tuple[str, ...]
    reference: np.ndarray
    baselines: dict[str, np.ndarray | None]
    seed: int
    latency: np.ndarray  # each net's CPU latency when the nets were chosen (ms), for the budgeted pick
    # The reference per net and seed, when it has two.  Every score here is made with seed 0, so it starts from the
    # weights (and sees the batches) the reference's seed 0 did and seed 1 did not: the gap between its agreement
    # with each seed alone is what sharing a seed flatters it by (plus one seed draw's noise).
    per_seed: np.ndarray | None = None

    def covering(self, rows: dict[str, dict], variants: tuple[str, ...]) -> _Judge | None:
        """This judge on the nets that have a seed-0 row of every one of ``variants``: a variant trained on the
        first nets only, before more got a reference, is judged on those (its figures' count says how many).
        None for fewer than four nets, too few to rank."""
        picked = [i for i, label in enumerate(self.labels) if all(f"{label}|{name}|0" in rows for name in variants)]
        if len(picked) == len(self.labels):
            return self
        if len(picked) < 4:
            return None
        baselines = {key: None if value is None else value[picked] for key, value in self.baselines.items()}
        return _Judge(tuple(self.labels[i] for i in picked), self.reference[picked], baselines, self.seed, self.latency[picked],
                      None if self.per_seed is None else self.per_seed[picked])

    def figures(self, score: np.ndarray) -> dict[str, Any]:
        """One score's rank statistics against the reference and how far it ranks above or below each baseline on
        the same nets (paired: the same resampled nets for both); a missing baseline, or the score itself, is skipped."""
        figures = {**correlation(score, self.reference, self.seed),
                   f"top{TOP_K}_contains_best": top_k_contains_best(score, self.reference),
                   "pick_regret_points": pick_regret_points(score, self.reference),
                   "budgeted_pick_regret_points": budgeted_pick_regret_points(score, self.reference, self.latency)}
        if self.per_seed is not None:
            figures[AGAINST_EACH_SEED] = [correlation(score, self.per_seed[:, i], self.seed)["spearman"] for i in range(2)]
            # No bootstrap for the pick: resampling nets drops the best one a third of the time, which says nothing
            # about a search.  Its uncertainty is the reference's: the regret against each seed alone.
            figures[REGRET_AGAINST_EACH_SEED] = [pick_regret_points(score, self.per_seed[:, i]) for i in range(2)]
            figures[BUDGETED_REGRET_AGAINST_EACH_SEED] = [budgeted_pick_regret_points(score, self.per_seed[:, i], self.latency)
                                                          for i in range(2)]
        for key, baseline in self.baselines.items():
            if baseline is not None and not np.isnan(baseline).any() and not np.array_equal(score, baseline):
                figures[key] = paired_difference(score, baseline, self.reference, self.seed)
        macs = self.baselines.get(PAIRED_WITH_MACS)
        if macs is not None and not np.isnan(macs).any() and not np.isnan(score).any():
            figures[SIZE_BIAS] = size_bias(score, self.reference, macs, self.seed)
        return figures

    def all(self, scores: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
        return {name: self.figures(score) for name, score in scores.items()}


def _reference_summary(rows: dict[str, dict], kept: list[str], per_seed: np.ndarray, name: str, seed: int) -> dict[str, Any]:
    reference = per_seed.mean(axis=1)
    two_seeds = per_seed.shape[1] > 1
    return {"accuracy_min": round(float(reference.min()), 4), "accuracy_max": round(float(reference.max()), 4),
            "spread_points": round(100 * float(np.ptp(reference)), 1),
            "best_nets": [kept[i] for i in np.flatnonzero(reference == reference.max())],
            # What a pick costs with no score at all (the mean net), and with one seed of the reference judged by the
            # other: the floor a pick cannot get under while the reference is this noisy.
            "random_pick_regret_points": round(100 * float(reference.max() - reference.mean()), 1),
            "pick_regret_points_between_seeds": [pick_regret_points(per_seed[:, i], per_seed[:, 1 - i]) for i in range(2)]
            if two_seeds else None,
            "seed_to_seed": correlation(per_seed[:, 0], per_seed[:, 1], seed) if two_seeds else None,
            # The reference's own noise in points: how far one net's two seeds land apart.
            "seed_gap_points": _seed_gap_points(per_seed) if two_seeds else None,
            "seed_gap_points_by_fit": seed_gap_by_fit(rows, kept, per_seed, name, seed) if two_seeds else None}


def _judged_training(rows: dict[str, dict], name: str, reference_name: str, seconds: np.ndarray,
                     scores: dict[str, np.ndarray], judge: _Judge) -> dict[str, Any]:
    """What one trained variant costs per net, how many of its steps the reference trains, and how its scores rank."""
    return {"nets": len(judge.labels), "seconds_per_net": round(float(np.nanmean(seconds)), 2),
            "reference_steps_per_proxy_step": _reference_multiple(rows, list(judge.labels), name, reference_name),
            "scores": judge.all(scores)}


def _proxy_summary(rows: dict[str, dict], variant: Variant, judge: _Judge, reference_name: str) -> dict[str, Any] | None:
    judge = judge.covering(rows, (variant.name,))
    if judge is None:
        return None
    labels = list(judge.labels)
    scores = _proxy_scores(rows, labels, variant.name, 0)
    seconds = scores.pop("seconds")
    zero_cost = _zero_cost_scores(rows, labels)
    if zero_cost is not None:
        scores["tse+zero_cost"] = _rank_mean([scores["tse"], *[zero_cost[m] for m in ZERO_COST_COMBINATION]])
    second = _proxy_scores(rows, labels, variant.name, 1)
    # The proxy's own noise, and what a second seed for every net would buy, for each score both seeds have.
    averaged = [name for name in TWO_SEED_SCORES if second is not None and name in scores and name in second]
    seed_to_seed = {name: correlation(scores[name], second[name], judge.seed) for name in averaged}
    for name in averaged:
        scores[f"{name}, mean of 2 seeds"] = (scores[name] + second[name]) / 2
    summary = {"what": variant.what, **_judged_training(rows, variant.name, reference_name, seconds, scores, judge)}
    if seed_to_seed:
        summary["seed_to_seed"] = seed_to_seed
    return summary


def _training_free_summary(rows: dict[str, dict], judge: _Judge) -> dict[str, Any] | None:
    judge = judge.covering(rows, (ZERO_COST,))
    if judge is None:
        return None
    zero_cost = _zero_cost_scores(rows, list(judge.labels))
    scores = {name: score for name, score in zero_cost.items() if name != "seconds"}
    scores["zero_cost_rank_sum"] = _rank_mean([zero_cost[m] for m in ZERO_COST_COMBINATION])
    return {"nets": len(judge.labels), "seconds_per_net_all_methods": round(float(np.mean(zero_cost["seconds"])), 2),
            "scores": judge.all(scores)}


def _shorter_training_summary(rows: dict[str, dict], reference_name: str, judge: _Judge) -> dict[str, Any] | None:
    """The reference's own recipe stopped at a half, a quarter, ... of its steps, judged as a proxy would be: how
    short a training still ranks the nets as the full one does, and what it costs per net."""
    result = {}
    for name in shorter_versions(reference_name):
        covered = judge.covering(rows, (name,))
        if covered is None:
            continue
        scores = _proxy_scores(rows, list(covered.labels), name, 0)
        seconds = scores.pop("seconds")
        result[name] = _judged_training(rows, name, reference_name, seconds, scores, covered)
    return result or None


def summarise(rows: dict[str, dict], nets: list[dict], seed: int = 0, reference_variant: Variant = REFERENCE,
              reference_seeds: int = 2) -> dict[str, Any]:
    """Every proxy's rank statistics against the mean of the reference's first ``reference_seeds`` seeds.

    One seed is an interim look at a run still training its second: no ceiling (seed-to-seed), and
    the reference's own noise is in every figure.
    """
    labels = [net["label"] for net in nets]
    by_label = {net["label"]: net for net in nets}
    table = _reference(rows, labels, tuple(range(reference_seeds)), reference_variant.name)
    kept = [label for label in labels if label in table]
    common = {"known_nets": known_net_accuracies(rows, nets, reference_variant), "reference_plateau": reference_plateaus(rows, labels, seed)}
    if len(kept) < 4:
        return {"nets_with_reference": len(kept), "reference_variant": reference_variant.name, "reference_seeds": reference_seeds, **common}
    per_seed = np.array([table[label] for label in kept])
    zero_cost = _zero_cost_scores(rows, kept)
    baselines = {PAIRED_WITH_DEFAULT: _accuracy_or_nan(rows, kept, DEFAULT_PROXY),
                 PAIRED_WITH_DEFAULT_SCORE: _search_score_or_nan(rows, kept, DEFAULT_PROXY),
                 PAIRED_WITH_MACS: _macs(kept, by_label, zero_cost)}
    latency = np.array([by_label[label].get("latency_ms", np.nan) for label in kept], dtype=float)
    judge = _Judge(tuple(kept), per_seed.mean(axis=1), baselines, seed, latency, per_seed if per_seed.shape[1] > 1 else None)
    proxies = {variant.name: _proxy_summary(rows, variant, judge, reference_variant.name) for variant in PROXIES}
    result: dict[str, Any] = {
        "nets_with_reference": len(kept),
        "reference": _reference_summary(rows, kept, per_seed, reference_variant.name, seed) | budgeted_floors(per_seed, judge.latency),
        "reference_variant": reference_variant.name,
        "reference_seeds": reference_seeds,
        "proxies": {name: summary for name, summary in proxies.items() if summary is not None},
        **common,
        "reference_parts": best_of_parts(rows, labels, reference_variant, seed),
    }
    optional = {"training_free": _training_free_summary(rows, judge),
                "shorter_trainings": _shorter_training_summary(rows, reference_variant.name, judge),
                "successive_halving": halving_summary(rows, reference_variant.name, judge)}
    return result | {key: value for key, value in optional.items() if value is not None}


def _seed_zero_or_nan(rows: dict[str, dict], labels: list[str], variant: str, figure: Callable[[dict], float | None]) -> np.ndarray:
    """``figure`` of each net's seed-0 row under ``variant``: NaN where the log has no row or the figure is None."""
    values = [None if (row := rows.get(f"{label}|{variant}|0")) is None else figure(row) for label in labels]
    return np.array([np.nan if value is None else value for value in values], dtype=float)


def _accuracy_or_nan(rows: dict[str, dict], labels: list[str], variant: str) -> np.ndarray:
    """Each net's seed-0 accuracy under ``variant``: 0 for a failed training, NaN where the log has no row."""
    return _seed_zero_or_nan(rows, labels, variant, lambda row: row.get("accuracy", 0.0))


def _search_score_or_nan(rows: dict[str, dict], labels: list[str], variant: str) -> np.ndarray:
    """Each net's seed-0 search score under ``variant``, as ``_proxy_scores`` makes it: 0 for a failed training,
    NaN where the log has no row or the row no held-out loss."""
    return _seed_zero_or_nan(rows, labels, variant, lambda row: proxy_quality(
        row.get("accuracy", 0.0), row.get("val_loss", math.inf if "failure" in row else None), ACCURACY_X_LIKELIHOOD))
