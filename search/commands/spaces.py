"""``search spaces``: the built-in search spaces, or one space's knobs."""

from __future__ import annotations

import click


@click.command()
@click.argument("space", required=False)
def spaces(space: str | None) -> None:
    """List the search spaces, or the knobs of one (a built-in name or a YAML/JSON file).

    \b
    Examples:
      search spaces
      search spaces mobilenet
      search spaces my_space.yaml
    """
    from search.spaces.documents import check_space_file

    if space is not None:
        check_space_file(space)  # a hostile space file is refused before torch loads
    from search.spaces import builtin_spaces, load_space

    if space is None:
        rows = [("space", "size", "knobs", "baselines", "description")]
        for name, s in builtin_spaces().items():
            rows.append((name, f"1e{s.log10_size():.1f}", str(len(s.knobs())), ", ".join(s.baselines) or "-", s.description))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4])
        click.echo("\nSize: number of distinct knob settings (real-valued knobs counted as 100 values each).")
        return
    chosen = load_space(space)
    click.echo(f"{chosen.name}: {chosen.description}")
    click.echo(f"size ~1e{chosen.log10_size():.1f} knob settings; baselines: {', '.join(chosen.baselines) or 'none'}")
    for knob in chosen.knobs():
        domain = knob.domain_text()
        condition = f"  when {knob.when}" if knob.when else ""
        note = f"  ({knob.note})" if knob.note else ""
        click.echo(f"  {knob.name:<28} {knob.kind:<11} {domain}{condition}{note}")
