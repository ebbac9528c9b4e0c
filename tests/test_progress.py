"""What a run tells a person while it works: phases, the net in hand, one line per trial, an ETA.

The end-to-end check reads the shared tiny run's stderr, which was piped to a
file (the case where a live bar would show nothing until the end).  Every
assertion is on content and order, never on how long anything took.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from search.run.progress import SearchProgress
from search.run.records import TrialRecord
from search.run.scores import DEFAULT_PROXY_SCORE
from tests.report_run import make_tiny_run, run_stderr

TRIAL_LINE = re.compile(rf"^\[search\] trial (\d+) (\w+)  {DEFAULT_PROXY_SCORE} (\S+)  latency (\S+)(?: ms)?  front (\d+)"
                        r"(?:  same net as trial \d+)?  \((\d+)/(\d+)(, (ETA|at most) [\d:]+)?\)$")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)  # --trials 5, --baseline resnet18, final protocol on; stderr piped


def test_a_piped_run_writes_its_phases_known_nets_and_one_line_per_trial(tiny: Path) -> None:
    lines = run_stderr(tiny).splitlines()

    def first(prefix: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(prefix))

    # The phases in the order they ran, each known net named as it starts training.
    order = [first("[known nets] started"), first("[known nets] evaluating baseline resnet18"), first("[search] started"),
             first("[re-measure] started"), first("[final protocol] started")]
    assert order == sorted(order)
    trials = pd.read_csv(tiny / "trials.csv")
    # A line per net the final protocol trains (a busy machine's time limit may leave some out: they have no seeds);
    # a warm-start copy of a known net shares its known net's training, so nets are counted by digest.
    training = [i for i, line in enumerate(lines) if line.startswith("[final protocol] final protocol: training ")]
    assert len(training) >= trials.loc[trials["final_seeds"].notna(), "digest"].nunique() and all(i > order[-1] for i in training)

    # Warm-start copies of known nets are told with the known nets, not as search trials.
    searched = trials[trials["baseline"].isna() & trials["warm_start"].isna()].set_index("number")
    warm = trials[trials["warm_start"].notna()]
    matches = [TRIAL_LINE.match(line) for line in lines if line.startswith("[search] trial")]
    assert all(matches), [line for line in lines if line.startswith("[search] trial")]
    assert [int(m.group(1)) for m in matches] == sorted(searched.index)  # one line per finished trial, in order
    for match in matches:
        row = searched.loc[int(match.group(1))]
        assert match.group(2) == row["state"]
        expected = "-" if pd.isna(row["quality"]) else f"{row['quality']:.4f}"  # the score the search maximised
        assert match.group(3) == expected
        assert match.group(4) == ("-" if pd.isna(row["latency_ms"]) else f"{row['latency_ms']:.1f}")
        # The front may hold warm-start copies of known nets, which the done count (searched nets) leaves out.
        assert int(match.group(7)) == 5 and 0 <= int(match.group(5)) <= int(match.group(6)) + len(warm)
    assert [int(m.group(6)) for m in matches] == list(range(1, len(matches) + 1))  # done/total counts up
    assert all(m.group(8) for m in matches)  # every line says how long is left


def test_the_eta_never_passes_the_deadline_and_quiet_is_silent(capsys: pytest.CaptureFixture) -> None:
    progress = SearchProgress(None, DEFAULT_PROXY_SCORE, quiet=False, lines=True, time_left=lambda phase: 5.0)
    progress.phase("search", total=100, done=0)
    progress.note(TrialRecord(state="complete", accuracy=0.9, quality=0.5, latency_ms=12.345), number=0, front=1)
    assert progress.eta_s() <= 5.0  # 99 trials left at any pace: the deadline is the bound
    progress.phase("final protocol")
    progress.activity("final protocol: training #0 with 3 seeds")
    progress.close()
    shown = capsys.readouterr().err.splitlines()
    assert shown[0].startswith("[search] started: 0/100 done, at most 0:05")
    assert TRIAL_LINE.match(shown[1]) and f"{DEFAULT_PROXY_SCORE} 0.5000  latency 12.3 ms  front 1  (1/100, ETA 0:0" in shown[1]
    assert shown[2:] == ["[final protocol] started, at most 0:05", "[final protocol] final protocol: training #0 with 3 seeds"]

    silent = SearchProgress(3, "accuracy", quiet=True, lines=True)
    silent.note(TrialRecord(state="failed"), number=0)
    silent.close()
    assert capsys.readouterr().err == ""
