"""``search zoo``: the known nets, their cost, and their spec strings."""

from __future__ import annotations

import click

from searchspace.widths import check_width_multiplier
from searchspace.zoo_names import check_zoo_name


@click.command()
@click.argument("name", required=False)
@click.option("--resolution", type=click.IntRange(min=1), help="Show the net at this input resolution.")
@click.option("--width-mult", type=float, help="Width multiplier (MobileNets, MnasNet: as torchvision's constructor).")
@click.option("--json", "as_json", is_flag=True, help="With NAME: print only the JSON.")
def zoo(name: str | None, resolution: int | None, width_mult: float | None, as_json: bool) -> None:
    """List the known nets, or show one of them as a spec.

    Without NAME: a table of every net with its parameters, MACs at its
    reference resolution and its spec string.  With NAME: its spec string,
    cost and JSON, scaled by --resolution / --width-mult if given.

    \b
    Examples:
      search zoo
      search zoo mobilenet_v2 --width-mult 0.75 --resolution 160
      search zoo efficientnet_b0 --json > b0.json
    """
    # What the arguments alone decide comes first: the zoo's modules import torch.
    if name is None and (resolution is not None or width_mult is not None or as_json):
        raise click.UsageError("--resolution, --width-mult and --json need a NAME")
    if width_mult is not None:
        check_width_multiplier(width_mult)
    if name is not None:
        check_zoo_name(name)
    from searchspace import zoo as known

    if name is None:
        click.echo(_table(known))
        return
    options = {}
    if resolution is not None:
        options["resolution"] = resolution
    if width_mult is not None:
        options["width_mult"] = width_mult
    spec = known.get(name, **options)
    if as_json:
        click.echo(spec.to_json())
        return
    from search.commands.describe import cost_summary

    entry = known.info(name)
    reference = entry.reference
    click.echo(f"{name}: equal to {reference.library} {reference.name}{_kwargs(reference.kwargs)} (reference resolution {reference.resolution})")
    if entry.note:
        click.echo(entry.note)
    click.echo(cost_summary(spec))
    click.echo(spec.to_json())


def _kwargs(kwargs) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")" if kwargs else ""


def _table(known) -> str:
    from evaluators.cost import cost
    from searchspace import encode

    rows = []
    for name in known.names():
        spec = known.get(name)
        c = cost(spec)
        rows.append((name, f"{c.params / 1e6:.2f}M", f"{c.macs / 1e9:.3f}G", str(spec.resolution), encode(spec)))
    header = ("name", "params", "MACs", "res", "spec")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    fmt = lambda r: "  ".join([r[0].ljust(widths[0]), *(r[i].rjust(widths[i]) for i in (1, 2, 3)), r[4]])  # noqa: E731
    return "\n".join(fmt(r) for r in [header, *rows])
