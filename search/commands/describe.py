"""``search describe``: a spec's canonical string, JSON and analytic cost."""

from __future__ import annotations

import click


@click.command()
@click.argument("spec")
@click.option("--json", "as_json", is_flag=True, help="Print only the spec's JSON.")
def describe(spec: str, as_json: bool) -> None:
    """Show a spec's canonical string, JSON and analytic cost.

    SPEC is a compact spec string or a path to a .json or text file holding one.

    \b
    Example:
      search describe "net_r32_n10 | conv_s2_c16 | mbconv_r2_s2_e6_c24 | head"
    """
    from search.specs_io import read_spec

    net = read_spec(spec)
    if as_json:
        click.echo(net.to_json())
        return
    click.echo(cost_summary(net))


def cost_summary(net) -> str:
    from evaluators.cost import cost
    from searchspace import encode

    c = cost(net)
    shapes = " -> ".join("x".join(map(str, s)) for s in c.stage_shapes)
    lines = [
        encode(net),
        f"digest      {net.digest()}",
        f"params      {c.params:,}" + (f" (auxiliary heads {c.aux_params:,})" if c.aux_params else ""),
        f"MACs        {c.macs:,} at {net.resolution}x{net.resolution}",
        f"activations {c.activations:,}",
        f"shapes      {net.in_channels}x{net.resolution}x{net.resolution} -> {shapes} -> {net.num_classes}",
    ]
    return "\n".join(lines)
