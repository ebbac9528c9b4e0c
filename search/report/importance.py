"""Optuna's parameter importances for quality and for latency, over the feasible trials only.

Infeasible trials carry a placeholder quality (they were never trained), which
would teach the importance model that over-budget knob values give accuracy 0;
so only trials the run scored are used.
"""

from __future__ import annotations

import warnings

import optuna

from search.report.data import RunData

MIN_TRIALS = 3  # fANOVA needs a few trials that differ before its numbers mean anything


def load_study(data: RunData) -> optuna.Study | None:
    storage = data.config.storage or (f"sqlite:///{data.rundir.study_db.resolve()}" if data.rundir.study_db.is_file() else None)
    if storage is None:
        return None
    try:
        return optuna.load_study(study_name=data.config.optuna_study, storage=storage)
    except Exception:  # a moved or copied run folder without its database: the report goes on without it
        return None


def param_importances(data: RunData) -> tuple[dict[str, dict[str, float]], str | None]:
    """``{target: {knob: importance}}``, and a note for the page when they cannot be computed."""
    study = load_study(data)
    if study is None:
        return {}, "parameter importances need the run's study database (study.db), which is not in this folder"
    scored = set(data.trials.loc[data.trials["state"] == "complete", "number"].astype(int))
    trials = [t for t in study.get_trials(deepcopy=False) if t.number in scored and t.values is not None and t.params]
    if len(trials) < MIN_TRIALS:
        return {}, f"parameter importances need at least {MIN_TRIALS} feasible trials; this run has {len(trials)}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    subset = optuna.create_study(directions=study.directions)
    subset.add_trials(trials)
    results: dict[str, dict[str, float]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, target in enumerate((data.objective, "latency_ms")):
            evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=16, seed=0)  # 64 by default: slow for wide spaces
            try:
                results[target] = optuna.importance.get_param_importances(
                    subset, evaluator=evaluator, target=lambda t, i=index: t.values[i])
            except (RuntimeError, ValueError) as error:
                return {}, f"parameter importances could not be computed: {error}"
    if not any(results.values()):
        return {}, "parameter importances: no knob was sampled in every feasible trial (fANOVA needs a shared set of knobs)"
    return results, None


def ranked_knobs(knobs: list[str], importance: dict[str, dict[str, float]], objective: str) -> list[str]:
    """``knobs`` (``param_`` columns), most important for the objective first; unranked ones keep their order last.

    fANOVA leaves out knobs not sampled in every feasible trial, so those rank
    after every knob it did measure.
    """
    scores = importance.get(objective, {})
    return sorted(knobs, key=lambda knob: -scores.get(knob.removeprefix("param_"), -1.0))
