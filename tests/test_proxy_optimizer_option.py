"""``--proxy-optimizer``: the search's proxy, its final protocol, ``export --train`` and the known-net cache
train with one optimizer, and a run stored before the option resumes with the rule it was scored under."""

from __future__ import annotations

import json

import pytest

from evaluators.proxy import ProxySettings
from search.run.baseline_cache import cache_key
from search.run.config import RunConfig
from search.run.final_protocol import train_seeds
from search.run.proxy_score import ProxyJob, ProxyScorer
from tests.test_proxy_augment_option import small_net, trained_settings  # noqa: F401 (a fixture)


@pytest.mark.parametrize(("options", "expected"), [({}, "adamw"), ({"proxy_optimizer": "sgd"}, "sgd"),
                                                   ({"proxy_optimizer": "auto"}, "auto")])
def test_the_proxy_and_the_final_protocol_train_with_the_runs_optimizer(trained_settings, options, expected) -> None:
    config = RunConfig(name="optimizer", final_seeds=3, **options)
    ProxyScorer(ProxyJob.of(config, "cpu"), None).score(small_net(), 32)
    train_seeds(small_net(), type("Record", (), {"proxy_resolution": 32})(), config, None, "cpu")
    assert [settings.optimizer for settings in trained_settings] == [expected] * 4  # one proxy, three final seeds


def test_the_runs_default_is_the_trainers_default() -> None:
    assert RunConfig(name="x").proxy_optimizer == ProxySettings().optimizer == "adamw"


def test_export_retraining_uses_the_runs_optimizer(trained_settings) -> None:
    from search.export.metadata import retrain
    from searchspace import build

    retrain(build(small_net()), RunConfig(name="x", proxy_optimizer="sgd"), None, 32, epochs=2)
    assert [(settings.optimizer, settings.epochs) for settings in trained_settings] == [("sgd", 2)]


def test_a_run_stored_before_the_option_resumes_choosing_per_net() -> None:
    stored = RunConfig(name="old", proxy_optimizer="adamw").to_dict()
    del stored["proxy_optimizer"]
    assert RunConfig.from_dict(stored).proxy_optimizer == "auto"


def test_an_exploration_stored_before_the_option_resumes_choosing_per_net() -> None:
    from search.explore.config import ExploreConfig

    stored = ExploreConfig(name="old", spaces=("resnet",), samples=2, macs=(None, 1e9),
                           proxy_optimizer="sgd").to_dict()
    del stored["proxy_optimizer"]
    assert ExploreConfig.from_dict(stored, "old/run.json").proxy_optimizer == "auto"


def test_known_nets_cached_under_one_optimizer_are_not_reused_under_another() -> None:
    keys = {json.dumps(cache_key("spec:x", RunConfig(name="a", proxy_optimizer=name), "proxy"), sort_keys=True)
            for name in ("adamw", "sgd", "auto")}
    assert len(keys) == 3


def test_an_unknown_optimizer_is_refused_with_one_line_and_exit_2(tmp_path) -> None:
    from tests.test_cli_run import one_line_error, search

    message = one_line_error(search(tmp_path, "run", "--name", "x", "--proxy-optimizer", "adam"))
    assert "--proxy-optimizer" in message and "adamw" in message
    assert not (tmp_path / "results").exists()  # validated before any run folder is made
