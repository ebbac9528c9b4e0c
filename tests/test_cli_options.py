"""The options of `search run` and `search explore` are generated from their configuration dataclasses."""

from __future__ import annotations

import dataclasses

import click
import pytest
from click.testing import CliRunner

from search.cli import cli
from search.explore.config import ExploreConfig
from search.options import option_name, option_of, shown_default
from search.run.config import RunConfig


def _help(command: str) -> str:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # click wraps long lines


@pytest.mark.parametrize(("command", "config_class"), [("run", RunConfig), ("explore", ExploreConfig)])
def test_every_setting_is_an_option_whose_help_shows_the_dataclass_default(command, config_class):
    text = _help(command)
    params = {param.opts[0]: param for param in cli.commands[command].params if isinstance(param, click.Option)}
    for field in dataclasses.fields(config_class):
        option = option_of(field)
        if option is None:
            continue
        name = option_name(config_class, field.name)
        assert name in params, f"{field.name} has no option {name}"
        assert option.help in text
        if shown_default(field) is not None:
            assert f"{option.help} [default: {shown_default(field)}]" in text
        assert params[name].default in (None, ())  # so that a resumed run can tell given from left out


def test_shown_defaults_are_the_field_values():
    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    assert shown_default(fields["trials"]) == str(RunConfig.trials) == "30"
    assert shown_default(fields["time_limit_s"]) == "10m" and RunConfig.time_limit_s == 600.0
    assert shown_default(fields["known_nets_time_s"]) == "0s" and RunConfig.known_nets_time_s == 0.0
    assert shown_default(fields["cpus_per_trial"]) == "1"
    assert shown_default(fields["download"]) is None  # a flag shows no default


def test_field_checks_name_the_option_the_value_and_what_is_allowed():
    with pytest.raises(ValueError, match=r"^--trials 0 is not allowed: must be at least 1$"):
        RunConfig(name="x", trials=0)
    with pytest.raises(ValueError, match=r"^--searcher 'bayes' is not known \(allowed: tpe, tpe-short, gp, nsga2, random, evolution\)$"):
        RunConfig(name="x", searcher="bayes")
    with pytest.raises(ValueError, match=r"^--budget 0.0 is not allowed: must be positive$"):
        RunConfig(name="x", budget_ms=0.0)
    with pytest.raises(ValueError, match=r"^--samples 1 is not allowed: must be at least 2$"):
        ExploreConfig(name="x", spaces=("resnet",), samples=1, macs=(None, 1e9))
