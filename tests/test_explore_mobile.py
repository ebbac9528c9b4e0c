"""`search explore` compares the per-block `mobile` space with `unified` at one MAC band."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from search.cli import main
from search.explore.report import knob_trends

DATA = ["--dataset", "shapes", "--dataset-option", "size=128", "--dataset-option", "val_size=64", "--resolution", "32"]


def test_mobile_against_unified_at_a_fixed_mac_band(tmp_path: Path) -> None:
    arguments = ["explore", "--out", str(tmp_path), "--quiet", "--space", "mobile", "--space", "unified",
                 "--macs", "4M:12M", "--samples", "4", "--proxy", "params", "--name", "band", *DATA]
    assert main(arguments) == 0
    folder = tmp_path / "band"
    table = pd.read_csv(folder / "samples.csv")
    assert table.groupby("space").size().to_dict() == {"mobile": 4, "unified": 4}
    assert table["macs"].between(4e6, 12e6).all() and set(table["state"]) == {"complete"}
    assert "knob_stage7.block0.kind" in table.columns  # the per-block knobs are recorded like any space's
    summary = json.loads((folder / "summary.json").read_text())
    mobile = table[table.space == "mobile"]["error"].to_numpy()
    unified = table[table.space == "unified"]["error"].to_numpy()
    [verdict] = summary["verdicts"]
    assert verdict["p_value"] == pytest.approx(stats.ks_2samp(mobile, unified).pvalue)
    assert summary["spaces"]["mobile"]["best"]["error"] == pytest.approx(mobile.min())
    assert (folder / "edf.png").is_file()  # each space's EDF with its bootstrap band
    # Per-block knobs have one trend each, pooled over the blocks that have them; other knobs keep their own.
    trends = {path.name for path in folder.glob("trend_*.png")}
    assert {"trend_blocks.kind.png", "trend_blocks.activation.png", "trend_stage7.depth.png", "trend_head.width.png"} <= trends
    assert not any(re.search(r"\.block\d+\.", name) for name in trends)
    rows = table.to_dict("records")
    pooled = knob_trends({"mobile": [r for r in rows if r["space"] == "mobile"]}, ["mobile"])["blocks.kind"]["mobile"]
    blocks = table[table.space == "mobile"].filter(regex=r"^knob_stage\d+\.block\d+\.kind$").notna().sum().sum()
    assert sum(b.count for b in pooled) == blocks  # every drawn block of every net counts once
