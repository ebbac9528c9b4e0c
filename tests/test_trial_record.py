"""The typed trial record and its three stored forms: optuna attributes, CSV and parquet."""

from __future__ import annotations

import io
import math

import optuna
import pandas as pd

from search.run.records import COLUMNS, RECORD_ATTR, TrialRecord, csv_text, parquet_bytes, read_csv_table, table

MEASURED = TrialRecord(
    state="complete", spec="net_r32_n10 | conv_s2_c8 | head", digest="abc123", params=12_345, macs=678_900,
    resolution=32, proxy_resolution=32, latency_ms=1.25, latency_spread_ms=0.05, latency_runs=40,
    latency_source="measured", accuracy=0.5, train_loss=1.5, val_loss=1.25, train_seconds=2.0, epochs=1, violation=-0.5,
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


def test_csv_and_parquet_agree_on_dtypes_with_an_integer_number_and_a_timestamp() -> None:
    knobs = [{"kernel": 3, "se": True, "act": "relu", "ratio": 0.25}, {"kernel": 5, "se": None, "act": "silu"}, {}]
    records = [MEASURED.but(number=n, knobs=k) for n, k in enumerate(knobs[:2])]
    records.append(MEASURED.but(baseline="resnet18", latency_contended=True, knobs=knobs[2]))  # a known net: no number
    frame = table(records)
    from_csv = read_csv_table(io.StringIO(csv_text(frame)))
    from_parquet = pd.read_parquet(io.BytesIO(parquet_bytes(frame)))
    pd.testing.assert_frame_equal(from_csv, from_parquet)
    pd.testing.assert_frame_equal(frame, from_parquet)
    assert str(from_parquet["number"].dtype) == "Int64" and from_parquet["number"].tolist()[:2] == [0, 1]
    assert from_parquet["number"].isna().tolist() == [False, False, True] and from_parquet["baseline"].iloc[2] == "resnet18"
    assert isinstance(from_parquet["started"].dtype, pd.DatetimeTZDtype)
    assert from_parquet["started"].iloc[0] == pd.Timestamp(MEASURED.started)
    assert "2026-01-01T00:00:00+00:00" in csv_text(frame)  # the CSV keeps ISO 8601 text
    assert str(from_parquet["param_se"].dtype) == "boolean" and str(from_parquet["param_kernel"].dtype) == "float64"  # missing on the known net


def test_a_real_runs_tables_agree_and_its_specs_carry_no_float_noise(tmp_path_factory) -> None:
    from tests.report_run import make_tiny_run

    run = make_tiny_run(tmp_path_factory)
    for stem in ("trials", "pareto"):
        parquet = run / f"{stem}.parquet"
        from_csv = read_csv_table(run / f"{stem}.csv")
        if parquet.is_file():
            pd.testing.assert_frame_equal(from_csv, pd.read_parquet(parquet))
        assert str(from_csv["number"].dtype) == "Int64" and isinstance(from_csv["started"].dtype, pd.DatetimeTZDtype)
        # 64/56 is written 8/7, 1 - 0.9997 as 1-0.0003: no 13-digit decimals in a spec string
        assert not from_csv["spec"].str.contains(r"\d\.\d{13,}").any()
