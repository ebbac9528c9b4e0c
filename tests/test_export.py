"""`search export`: every format computes what build(spec) computes; errors are one line."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import onnxruntime
import pandas as pd
import pytest
import torch

from search.cli import main
from search.export import export_net
from search.export.formats import example_input
from searchspace import build, decode
from tests.report_run import copy_run, make_tiny_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)


def front_trial(run: Path) -> tuple[str, str]:
    row = pd.read_csv(run / "pareto.csv").iloc[0]
    return str(int(row["number"])), row["spec"]


def reference_model(path: Path) -> torch.nn.Module:
    """The net ``build`` makes from the spec stored in a ``pt`` export, with the exported weights."""
    payload = torch.load(path, weights_only=False)
    model = build(decode(payload["spec_string"]))
    model.load_state_dict(payload["state_dict"], strict=True)
    return model.eval()


def test_pt_holds_the_spec_and_weights_that_rebuild_the_net(tiny_run: Path, tmp_path: Path) -> None:
    trial, spec = front_trial(tiny_run)
    path = export_net(tiny_run, trial, "pt", tmp_path / "net.pt")
    payload = torch.load(path, weights_only=False)
    from searchspace.spec import NetSpec

    # The final protocol's weights, for the net as it was trained: the spec at the resolution it was trained at.
    assert NetSpec.from_json(json.dumps(payload["spec"])) == dataclasses.replace(decode(spec), resolution=payload["preprocessing"]["input_resolution"])
    assert payload["trial"] == int(trial) and payload["trained"].startswith("final protocol") and payload["trained_epochs"] > 0
    model = reference_model(path)
    assert set(model.state_dict()) == set(payload["state_dict"])


def exported_with_reference(run: Path, trial: str, fmt: str, out: Path) -> tuple[torch.nn.Module, Path]:
    """The export of ``trial`` as ``fmt``, and the net rebuilt from its ``pt`` export (same weights)."""
    model = reference_model(export_net(run, trial, "pt", out.with_name(out.stem + "_weights.pt")))
    return model, export_net(run, trial, fmt, out)


def test_onnx_output_equals_torch_in_onnxruntime(tiny_run: Path, tmp_path: Path) -> None:
    model, path = exported_with_reference(tiny_run, front_trial(tiny_run)[0], "onnx", tmp_path / "net.onnx")
    images = example_input(model.spec, batch=3, seed=5)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {"images": images.numpy()})[0])
    with torch.no_grad():
        torch.testing.assert_close(got, model(images), rtol=1e-3, atol=1e-4)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_output_equals_torch(tiny_run: Path, tmp_path: Path) -> None:
    model, path = exported_with_reference(tiny_run, "resnet18", "torchscript", tmp_path / "r18.pt")  # a baseline, by name
    scripted = torch.jit.load(str(path))
    images = example_input(model.spec, batch=2, seed=3)
    with torch.no_grad():
        torch.testing.assert_close(scripted(images), model(images))


def test_python_file_runs_without_the_toolkit_and_loads_the_same_weights(tiny_run: Path, tmp_path: Path) -> None:
    model, source = exported_with_reference(tiny_run, front_trial(tiny_run)[0], "python", tmp_path / "exported_net.py")
    images = example_input(model.spec, batch=2, seed=7)
    torch.save({"images": images, "state_dict": model.state_dict()}, tmp_path / "inputs.pt")
    with torch.no_grad():
        torch.save(model(images), tmp_path / "expected.pt")
    script = (
        "import sys, torch\n"
        "from exported_net import ExportedNet\n"
        "data = torch.load('inputs.pt')\n"
        "net = ExportedNet().eval()\n"
        "net.load_state_dict(data['state_dict'], strict=True)\n"
        "assert list(net.state_dict()) == list(data['state_dict'])\n"
        "with torch.no_grad():\n"
        "    torch.testing.assert_close(net(data['images']), torch.load('expected.pt'))\n"
        "assert not {'searchspace', 'evaluators', 'search'} & set(sys.modules), 'imported the toolkit'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", script], cwd=source.parent, env=dict(env, OMP_NUM_THREADS="1"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_train_changes_the_weights(tiny_run: Path, tmp_path: Path) -> None:
    trial, _ = front_trial(tiny_run)
    untrained = torch.load(export_net(tiny_run, trial, "pt", tmp_path / "a.pt"), weights_only=False)
    trained = torch.load(export_net(tiny_run, trial, "pt", tmp_path / "b.pt", train_epochs=1), weights_only=False)
    assert trained["trained_epochs"] == 1
    changed = [k for k, v in untrained["state_dict"].items() if v.is_floating_point() and not torch.equal(v, trained["state_dict"][k])]
    assert changed and any(k.endswith("weight") for k in changed)


def one_line_error(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("search: error: "), lines
    return lines[0]


def test_export_errors_are_one_line(tiny_run: Path, tmp_path: Path, capsys) -> None:
    assert "is not a run folder" in one_line_error(["export", str(tmp_path), "--trial", "0", "--format", "pt"], capsys)
    assert "has no trial 999" in one_line_error(["export", str(tiny_run), "--trial", "999", "--format", "pt"], capsys)
    assert "has no baseline 'vgg99'" in one_line_error(["export", str(tiny_run), "--trial", "vgg99", "--format", "pt"], capsys)
    assert "--format 'tflite' is not known" in one_line_error(["export", str(tiny_run), "--trial", "0", "--format", "tflite"], capsys)
    copy = copy_run(tiny_run, tmp_path / "copy")
    table = pd.read_csv(copy / "trials.csv").astype({"error": object})
    table.loc[table["number"] == 0, ["state", "spec", "error"]] = ["failed", None, "out of memory"]
    table.to_csv(copy / "trials.csv", index=False)
    assert "trial 0 has no net to export (failed: out of memory)" in one_line_error(
        ["export", str(copy), "--trial", "0", "--format", "pt"], capsys)
    assert not (copy / "exports").exists()


def test_missing_onnx_is_one_clear_line(tiny_run: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if it were not installed
    assert "needs onnx and onnxruntime" in one_line_error(
        ["export", str(tiny_run), "--trial", front_trial(tiny_run)[0], "--format", "onnx", "--out", str(tmp_path / "n.onnx")], capsys)
