"""The typed trial record and its three stored forms: optuna attributes, CSV and parquet."""

from __future__ import annotations

import io
import math

import optuna
import pandas as pd

from search.run.records import COLUMNS, RECORD_ATTR, TrialRecord, csv_text, parquet_bytes, table

MEASURED = TrialRecord(
    state="complete", spec="net_r32_n10 | conv_s2_c8 | head", digest="abc123", params=12_345, macs=678_900,
    resolution=32, proxy_resolution=32, latency_ms=1.25, latency_spread_ms=0.05, latency_runs=40,
    latency_source="measured", accuracy=0.5, train_loss=1.5, train_seconds=2.0, epochs=1, violation=-0.5,
    latency_contended=False, error=None, seconds=3.5, started="2026-01-01T00:00:00+00:00",
)


def test_the_optuna_attribute_form_survives_optunas_own_storage_with_its_types() -> None:
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage(), directions=["maximize", "minimize"])
    trial = study.ask({"width": optuna.distributions.IntDistribution(8, 64)})
    trial.set_user_attr(RECORD_ATTR, MEASURED.stored())
    study.tell(trial, [0.5, 1.25])
    back = TrialRecord.of_trial(study.get_trials()[0], {"0": {"left_front": "dominated", "remeasured_latency_ms": 2.0}})
    assert back.but(knobs={}, left_front=None, remeasured_latency_ms=None) == MEASURED.but(number=0)
    assert back.knobs == {"width": trial.params["width"]} and back.left_front == "dominated"
    assert isinstance(back.params, int) and isinstance(back.latency_ms, float) and back.objective == 0.5


def test_csv_and_parquet_rows_read_back_as_the_same_typed_record() -> None:
    records = [MEASURED.but(number=0, knobs={"width": 16}), TrialRecord(number=1, state="failed", error="nan loss")]
    frame = table(records)
    assert list(frame.columns) == [*COLUMNS, "param_width"]
    from_csv = pd.read_csv(io.StringIO(csv_text(frame))).to_dict("records")
    from_parquet = pd.read_parquet(io.BytesIO(parquet_bytes(frame))).to_dict("records")
    for rows in (from_csv, from_parquet):
        assert [TrialRecord.of(row) for row in rows] == [records[0], records[1].but(knobs={"width": None})]


def test_a_record_an_older_run_stored_loads_with_missing_fields_empty() -> None:
    old = {"state": "infeasible", "params": 1000.0, "latency_ms": float("nan"), "pareto": None, "no_longer_a_column": 1}
    record = TrialRecord.of(old)
    assert (record.state, record.params, record.latency_ms, record.pareto) == ("infeasible", 1000, None, False)
    assert record.final_accuracy is None and not math.isnan(record.stored()["violation"] or 0.0)


def test_nan_and_infinities_are_stored_as_json_can_hold_them() -> None:
    stored = TrialRecord(score=float("nan"), latency_ms=float("inf")).stored()
    assert stored["score"] is None and stored["latency_ms"] == 1e300
