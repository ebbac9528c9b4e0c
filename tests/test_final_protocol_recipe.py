"""The final protocol trains with the proxy's recipe: the recipe that ranked the nets is the one re-run."""

from __future__ import annotations

from types import SimpleNamespace

import torch

import evaluators.proxy
from search.run.config import RunConfig
from search.run.final_protocol import train_seeds
from searchspace import zoo
from searchspace.layers import Residual


def last_norm_scales(model: torch.nn.Module) -> list[torch.Tensor]:
    """The scale of the last batch norm of every residual branch, in forward order."""
    scales = []
    for block in model.modules():
        if isinstance(block, Residual):
            norms = [m for m in block.body.modules() if isinstance(m, torch.nn.BatchNorm2d)]
            scales.append(norms[-1].weight.detach().clone())
    return scales


def test_every_final_seed_starts_with_zeroed_residual_branches_as_the_proxy_does(monkeypatch) -> None:
    started = []

    def record_start(model, dataset, settings, device):
        started.append((settings.seed, last_norm_scales(model)))
        return SimpleNamespace(accuracy=0.5)

    monkeypatch.setattr(evaluators.proxy, "train", record_start)
    spec = zoo.get("resnet18", num_classes=10, in_channels=1, resolution=32)
    runs = train_seeds(spec, SimpleNamespace(proxy_resolution=32), RunConfig(name="final", final_seeds=3), None, "cpu")
    assert [run.seed for run in runs] == [0, 1, 2] == [seed for seed, _ in started]
    for _, scales in started:
        assert len(scales) == 8  # ResNet-18: two basic blocks in each of four stages
        assert all(bool((scale == 0).all()) for scale in scales)


def test_a_recipe_without_zero_init_keeps_the_built_scales(monkeypatch) -> None:
    from functools import partial

    from evaluators.proxy import ProxySettings

    seen = []
    monkeypatch.setattr(evaluators.proxy, "train", lambda model, *args, **kwargs: seen.append(last_norm_scales(model))
                        or SimpleNamespace(accuracy=0.5))
    monkeypatch.setattr(evaluators.proxy, "ProxySettings", partial(ProxySettings, zero_init_residual=False))
    spec = zoo.get("resnet18", num_classes=10, in_channels=1, resolution=32)
    train_seeds(spec, SimpleNamespace(proxy_resolution=32), RunConfig(name="final", final_seeds=3), None, "cpu")
    assert all(bool((scale == 1).all()) for scales in seen for scale in scales)  # torch's BatchNorm starts at 1


def test_a_warm_start_copy_and_its_known_net_are_trained_once_and_share_figures_and_weights(monkeypatch, tmp_path) -> None:
    import time

    import search.run.final_protocol as protocol
    from search.run.records import TrialRecord
    from search.run.rundir import RunDir
    from searchspace import encode

    monkeypatch.setenv("CONVSPACE_CACHE", str(tmp_path / "cache"))
    spec = zoo.get("mobilenet_v3_small", num_classes=10, in_channels=1, resolution=32)
    shared = dict(state="complete", spec=encode(spec), digest=spec.digest(), proxy_resolution=32, proxy_seconds=1.0,
                  accuracy=0.9, latency_ms=7.0)
    copy = TrialRecord.of({**shared, "number": 0, "warm_start": "mobilenet_v3_small", "pareto": True})
    known = TrialRecord.of({**shared, "baseline": "mobilenet_v3_small"})
    trainings, notes = [], []

    def fake_seeds(spec, record, config, dataset, device, seeds):
        trainings.append(protocol.label_of(record))
        return [protocol.SeedRun(seed, 0.9 + seed / 100, {"w": torch.zeros(1)}) for seed in seeds]

    monkeypatch.setattr(protocol, "train_seeds", fake_seeds)
    rundir = RunDir(tmp_path / "run")
    (rundir.path / protocol.FINAL_FOLDER).mkdir(parents=True)
    final = protocol.FinalProtocol(RunConfig(name="final", final_seeds=3), None, "cpu", rundir, time.monotonic() + 60)
    assert final.run([copy], [known], lambda number, fields: notes.append(number)) == []
    assert trainings == ["trial0"]  # the known net is the same net: not trained a second time
    assert known.final_accuracy == copy.final_accuracy and known.final_ci_low == copy.final_ci_low
    assert notes == [0]
    assert protocol.weights_path(rundir, "mobilenet_v3_small").read_bytes() == protocol.weights_path(rundir, "trial0").read_bytes()
