"""The ``search`` command line.

Every subcommand reports bad input as one line on stderr and exit code 2;
anything else that goes wrong is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import click

from search.errors import user_error_types


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  search describe "net_r224 | conv_k7_s2_c64 pool_s2_k3_p1 | basic_r2_c64 basic_r2_s2_c128 | head"
  search describe my_net.json
""",
)
@click.version_option(package_name="convspace", prog_name="search")
def cli() -> None:
    """Hardware-aware architecture search and design-space exploration for CNNs."""


@cli.command()
@click.argument("spec")
@click.option("--json", "as_json", is_flag=True, help="Print only the spec's JSON.")
def describe(spec: str, as_json: bool) -> None:
    """Show a spec's canonical string, JSON and analytic cost.

    SPEC is a compact spec string or a path to a .json or text file holding one.

    \b
    Example:
      search describe "net_r32_n10 | conv_s2_c16 | mbconv_r2_s2_e6_c24 | head"
    """
    from evaluators.cost import cost
    from search.specs_io import read_spec
    from searchspace import encode

    net = read_spec(spec)
    if as_json:
        click.echo(net.to_json())
        return
    c = cost(net)
    click.echo(encode(net))
    click.echo(f"digest      {net.digest()}")
    click.echo(f"params      {c.params:,}" + (f" (auxiliary heads {c.aux_params:,})" if c.aux_params else ""))
    click.echo(f"MACs        {c.macs:,} at {net.resolution}x{net.resolution}")
    click.echo(f"activations {c.activations:,}")
    shapes = " -> ".join("x".join(map(str, s)) for s in c.stage_shapes)
    click.echo(f"shapes      {net.in_channels}x{net.resolution}x{net.resolution} -> {shapes} -> {net.num_classes}")


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the CLI, turning user errors into one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="search", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.exceptions.Abort:
        click.echo("search: interrupted", err=True)
        return 130
    except click.UsageError as error:
        click.echo(f"search: error: {error.format_message()}", err=True)
        return 2
    except user_error_types() as error:
        click.echo(f"search: error: {' '.join(str(error).split())}", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
