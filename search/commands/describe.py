"""``search describe``: a spec's canonical string, JSON and analytic cost."""

from __future__ import annotations

import click


@click.command()
@click.argument("spec")
@click.option("--json", "as_json", is_flag=True, help="Print only the spec's JSON.")
def describe(spec: str, as_json: bool) -> None:
    """Show a spec's canonical string, JSON and analytic cost.

    SPEC is a compact spec string or a path to a .json or text file holding one.
    A backbone with necks (a net string, then "=> features_s8x16x32 fpn_c64 pan")
    gets the cost of each part: backbone and each neck.

    \b
    Example:
      search describe "net_r32_n10 | conv_s2_c16 | mbconv_r2_s2_e6_c24 | head"
    """
    from search.specs_io import read_spec

    net = read_spec(spec)  # a missing file or a string without its sections is refused before torch loads
    from searchspace import NetSpec

    if as_json:
        click.echo(net.to_json())
        return
    click.echo(cost_summary(net) if isinstance(net, NetSpec) else parts_summary(net))


def parts_summary(spec) -> str:
    """A backbone with necks: the cost of each part and the total."""
    from searchspace.necks import backbone_neck_cost

    cost = backbone_neck_cost(spec)
    rows = [(p.name, p.params, p.macs, ", ".join("x".join(map(str, s)) for s in p.out_shapes)) for p in cost.parts]
    lines = [str(spec), f"digest      {spec.digest()}",
             *(f"{name:<11} params {params:>13,}  MACs {macs:>15,}  maps {maps}" for name, params, macs, maps in rows),
             f"{'total':<11} params {cost.params:>13,}  MACs {cost.macs:>15,}  at {spec.backbone.resolution}x{spec.backbone.resolution}"]
    return "\n".join(lines)


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
