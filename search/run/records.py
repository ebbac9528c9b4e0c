"""The trial record: one row per evaluated net, the same for search trials and baselines.

:class:`TrialRecord` holds an evaluation with explicit types.  It has one
serializer per place it is kept:

* optuna user attributes (:meth:`TrialRecord.stored` / :meth:`TrialRecord.of_trial`): search
  trials keep their record in the study, so the database alone holds everything;
  baselines keep the same form in ``baselines.json`` and the cross-run cache;
* ``trials.csv`` and ``trials.parquet`` (:func:`table`, :func:`csv_text`,
  :func:`parquet_bytes`), regenerated from those two sources, one column per
  field in :data:`COLUMNS` order, then one ``param_*`` column per knob.

Reading is lenient about what older runs wrote: missing fields are None,
numbers written as text or floats come back with their field's type.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

RECORD_ATTR = "record"  # the whole record, for resume and the tables
# The same record as one user attribute per figure, for people and optuna-dashboard: field -> attribute name.
TIDY_ATTRS = {"state": "state", "error": "reason", "spec": "spec", "digest": "digest", "params": "params", "macs": "macs",
              "latency_ms": "latency_ms", "latency_source": "latency_source", "accuracy": "accuracy", "quality": "quality", "score": "score",
              "remeasured_latency_ms": "remeasured_latency_ms", "final_accuracy": "final_accuracy",
              "duplicate_of": "duplicate_of", "baseline": "baseline"}
# Finished trials are read-only in optuna; what the run learns about a trial
# afterwards (its re-measured latency, that it left the front, that it was
# queued again) is kept in the study's own attributes, keyed by trial number.
ANNOTATIONS_ATTR = "annotations"
KNOB_PREFIX = "param_"
# What the search maximised, in the order it is read: the proxy's score, a run's from before it (accuracy), a
# training-free score.  TrialRecord.objective and the report's column (search.report.data) both read this.
OBJECTIVE_FIELDS = ("quality", "accuracy", "score")

# Our states; optuna's COMPLETE covers both "complete" and "infeasible" (its constraints say which).
STATES = ("complete", "infeasible", "failed", "pruned", "interrupted", "running", "waiting")


@dataclass
class TrialRecord:
    """One evaluated net (a search trial or a known net), as every table and the study keep it."""

    number: int | None = None  # the optuna trial number; None for a baseline
    state: str | None = None  # one of STATES
    baseline: str | None = None  # the zoo name of a known net
    spec: str | None = None  # the net's compact string
    digest: str | None = None
    params: int | None = None
    macs: int | None = None
    resolution: int | None = None  # deployment resolution: latency is measured at it
    proxy_resolution: int | None = None  # the resolution the proxy trained at
    latency_ms: float | None = None
    latency_spread_ms: float | None = None
    latency_runs: int | None = None
    latency_source: str | None = None  # measured, cached, probe or predicted
    accuracy: float | None = None  # proxy validation accuracy
    train_loss: float | None = None
    # The proxy's mean cross-entropy on the validation split (no label smoothing): it still orders nets whose
    # accuracies tie near 1.0 on an easy set (docs/proxy.md).
    val_loss: float | None = None
    # What the search maximised for this net under the run's --proxy-score (search.run.scores); None for a
    # training-free proxy (its score is the figure) and in runs from before the option (accuracy was).
    quality: float | None = None
    score: float | None = None  # a training-free proxy's score
    train_seconds: float | None = None
    images_per_second: float | None = None
    peak_mem_mb: float | None = None
    regime: str | None = None
    optimizer: str | None = None  # the proxy's optimizer for this net: "sgd" (batch-norm nets) or "adamw"
    epochs: int | None = None
    violation: float | None = None  # the worst relative excess over a limit (> 0: over)
    pareto: bool = False
    remeasured_latency_ms: float | None = None
    remeasured_spread_ms: float | None = None
    latency_contended: bool | None = None
    left_front: str | None = None  # why a net left the front at the end of the run
    final_accuracy: float | None = None
    final_ci_low: float | None = None
    final_ci_high: float | None = None
    final_seeds: int | None = None
    final_epochs: int | None = None
    error: str | None = None  # the reason for a failure or an infeasible verdict
    duplicate_of: int | None = None  # the trial whose result a reused net carries
    warm_start: str | None = None  # the known net a warm-start trial copies (search.run.warm_start): not a search draw
    seconds: float | None = None
    latency_seconds: float | None = None
    proxy_seconds: float | None = None
    started: str | None = None  # ISO time the evaluation started
    knobs: dict[str, Any] = field(default_factory=dict)  # the optuna trial's parameters
    # Why the final protocol left a known net out.  A column, so that `search report`, which rebuilds the records
    # from the tables, gives the reason the run's summary gave (without it the report said "the time limit left
    # it out" of a known net left out because another known net beat it).
    final_skipped: str | None = None

    # ---- reading and changing ------------------------------------------------------------

    @property
    def objective(self) -> float | None:
        """The quality the search maximises: the proxy's score of a trained net, or the training-free score."""
        value = next((v for v in (getattr(self, name) for name in OBJECTIVE_FIELDS) if v is not None), None)
        return None if value is None or math.isnan(value) else float(value)

    @property
    def feasible(self) -> bool:
        return self.state == "complete"

    def update(self, **fields: Any) -> None:
        """Set fields by name (an unknown name is a bug, not data: it raises)."""
        for name, value in fields.items():
            if name not in _TYPES:
                raise AttributeError(f"a trial record has no field {name!r}")
            setattr(self, name, value)

    def but(self, **fields: Any) -> TrialRecord:
        """A copy with ``fields`` changed."""
        return dataclasses.replace(self, **{"knobs": dict(self.knobs), **fields})

    def reused_by(self) -> TrialRecord:
        """What a later trial of the same net records: this result, marked as a duplicate of this trial."""
        return self.but(number=None, pareto=False, remeasured_latency_ms=None, duplicate_of=self.number, seconds=0.0)

    # ---- serializers -----------------------------------------------------------------------

    @classmethod
    def of(cls, fields: dict[str, Any]) -> TrialRecord:
        """From a stored or tabled form: known fields typed (missing ones keep their default), ``param_*`` as
        knobs, anything else ignored."""
        record = cls()
        for name, value in fields.items():
            if name.startswith(KNOB_PREFIX):
                record.knobs[name[len(KNOB_PREFIX):]] = None if _missing(value) else value
            elif name in _TYPES and not _missing(value):
                setattr(record, name, _typed(value, _TYPES[name]))
        return record

    def stored(self) -> dict[str, Any]:
        """The optuna-attribute (and JSON) form: every column, NaN as null, infinities as the largest float."""
        return {name: _jsonable(getattr(self, name)) for name in COLUMNS}

    def user_attrs(self) -> dict[str, Any]:
        """What a trial in the study carries: the whole record, and each figure set under its own name."""
        stored = self.stored()
        tidy = {name: stored[field] for field, name in TIDY_ATTRS.items() if stored[field] is not None}
        return {RECORD_ATTR: stored, **tidy}

    @classmethod
    def of_trial(cls, trial: optuna.trial.FrozenTrial, notes: dict[str, dict[str, Any]] | None = None) -> TrialRecord:
        """A trial's record: its stored record, later annotations, its number, and its state as the study knows it."""
        record = cls.of({**trial.user_attrs.get(RECORD_ATTR, {}), **(notes or {}).get(str(trial.number), {})})
        record.number = trial.number
        if trial.state == optuna.trial.TrialState.RUNNING:
            record.state = "running"
        elif trial.state == optuna.trial.TrialState.WAITING:  # queued again after an interruption
            record.state = "waiting"
        elif record.state is None:
            record.state = {
                optuna.trial.TrialState.FAIL: "failed",
                optuna.trial.TrialState.PRUNED: "pruned",
                optuna.trial.TrialState.COMPLETE: "complete",
            }.get(trial.state, "failed")
        record.knobs = dict(trial.params)
        return record

    def row(self) -> dict[str, Any]:
        """The table form: one value per column, then ``param_<knob>`` per knob."""
        return {**{name: getattr(self, name) for name in COLUMNS},
                **{KNOB_PREFIX + name: value for name, value in self.knobs.items()}}


_TYPES: dict[str, type] = {}
for _field in dataclasses.fields(TrialRecord):
    if _field.name != "knobs":
        _hint = typing.get_type_hints(TrialRecord)[_field.name]
        _TYPES[_field.name] = next(t for t in (bool, int, float, str) if t == _hint or t in typing.get_args(_hint))
COLUMNS = tuple(_TYPES)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def _typed(value: Any, kind: type) -> Any:
    if kind is bool:
        return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1")
    if kind is int:
        return int(float(value)) if isinstance(value, str) else int(value)
    if kind is str and hasattr(value, "isoformat"):  # a table's timestamp: the ISO text the record holds
        return value.isoformat()
    return kind(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else math.copysign(1e300, value)
    return value


def annotations(study: optuna.Study) -> dict[str, dict[str, Any]]:
    return dict(study.user_attrs.get(ANNOTATIONS_ATTR, {}))


def annotate(study: optuna.Study, number: int, **fields: Any) -> None:
    notes = annotations(study)
    notes[str(number)] = {**notes.get(str(number), {}), **fields}
    study.set_user_attr(ANNOTATIONS_ATTR, notes)


def study_records(study: optuna.Study, *, with_notes: bool = True) -> list[TrialRecord]:
    """Every trial's record, in trial order (``with_notes``: with what the run learned about it afterwards)."""
    notes = annotations(study) if with_notes else None
    return [TrialRecord.of_trial(t, notes) for t in study.get_trials(deepcopy=False)]


# ---- the table forms ---------------------------------------------------------------------


def table(records: list[TrialRecord]) -> pd.DataFrame:
    """Rows in a stable column order: the fixed columns, then the space's knobs; typed by :func:`typed`."""
    knobs = sorted({c for r in records for c in r.row() if c.startswith(KNOB_PREFIX)})
    frame = pd.DataFrame.from_records([r.row() for r in records], columns=list(COLUMNS) + knobs)
    frame["pareto"] = frame["pareto"].fillna(False)
    return typed(frame)


def csv_text(frame: pd.DataFrame) -> str:
    """The table as CSV; timestamps in ISO 8601 (``2026-01-01T00:00:00+00:00``), as the records hold them."""
    text = frame.copy()
    for column in text.columns[[pd.api.types.is_datetime64_any_dtype(t) for t in text.dtypes]]:
        text[column] = text[column].map(lambda moment: moment.isoformat() if pd.notna(moment) else None)
    return text.to_csv(index=False)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    typed(frame).to_parquet(buffer, index=False)
    return buffer.getvalue()


def read_csv_table(source) -> pd.DataFrame:
    """A ``trials.csv`` or ``pareto.csv`` with the dtypes its ``.parquet`` twin has (:func:`typed`)."""
    text_columns = {name: "string" for name, kind in _TYPES.items() if kind is str and name != "started"}
    return typed(pd.read_csv(source, dtype=text_columns))


# pandas dtypes by field type: nullable integers and booleans, so a missing value (a known net has no trial
# number) stays missing instead of turning the column into floats or objects.
_DTYPES = {bool: "boolean", int: "Int64", float: "float64", str: "string"}


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """One dtype per column, the same whether the table is built, read from CSV or from parquet.

    Fixed columns take their field's type (``number`` is ``Int64``: empty for a
    known net, whose row is named by ``baseline``; ``started`` is a UTC
    timestamp; ``pareto`` is a plain bool).  Knob columns mix types across
    block kinds (a kernel size here, ``None`` there), so each gets the
    narrowest type that holds it: booleans, numbers, or else text.
    """
    result = frame.copy()
    for column in result.columns:
        if column == "started":
            result[column] = pd.to_datetime(result[column], utc=True, format="ISO8601")
        elif column == "pareto":
            result[column] = result[column].fillna(False).astype(bool)
        elif column in _TYPES:
            result[column] = _as_field_type(result[column], _TYPES[column])
        else:
            result[column] = _narrowest(result[column])
    return result


def _as_field_type(values: pd.Series, kind: type) -> pd.Series:
    if kind in (int, float):
        return pd.to_numeric(values.astype(object).where(values.notna(), None)).astype(_DTYPES[kind])
    return values.astype(_DTYPES[kind])


def _narrowest(values: pd.Series) -> pd.Series:
    present = values.dropna()
    if not len(present):
        return values.astype("float64")  # what CSV gives an empty column
    if present.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return values.astype("boolean") if values.isna().any() else values.astype(bool)
    if present.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))).all():
        return pd.to_numeric(values.astype(object).where(values.notna(), None))
    return values.astype("string")
