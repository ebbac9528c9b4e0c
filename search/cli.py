"""The ``search`` command line.

Every subcommand reports bad input as one line on stderr and exit code 2, and
so does a path the operating system refuses (too long, not a folder, read-only);
a run that ends without one finished search trial (the time limit ran out)
exits with code 3; an interrupted run with 130; anything else that goes
wrong is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import click

from search.errors import user_error_types
from search.run.stops import EXIT_NO_SEARCH_TRIAL, NoSearchTrial, RunInterrupted

# Longer messages are cut: every message names what it needs to within its first few hundred characters.
MAX_MESSAGE = 1_000


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  search run --budget 50ms --device cpu        search the default space on the embedded digits data
  search spaces                                the search spaces and their knobs
  search zoo                                   the known nets, their cost and spec strings
  search zoo mobilenet_v2 --width-mult 0.75    one of them, scaled
  search describe my_net.json                  any spec's cost and shapes
""",
)
@click.version_option(package_name="convspace", prog_name="search")
def cli() -> None:
    """Hardware-aware architecture search and design-space exploration for CNNs."""


def _register_commands() -> None:
    from search.commands.describe import describe
    from search.commands.explore import explore
    from search.commands.export import export
    from search.commands.report import report
    from search.commands.run import run
    from search.commands.spaces import spaces
    from search.commands.zoo import zoo

    for command in (run, spaces, zoo, describe, report, export, explore):
        cli.add_command(command)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the CLI, turning user errors into one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="search", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.exceptions.Abort:
        click.echo("search: interrupted", err=True)
        return 130
    except NoSearchTrial as empty:
        click.echo(f"search: {empty}", err=True)
        return EXIT_NO_SEARCH_TRIAL
    except RunInterrupted as stopped:
        click.echo(f"search: {stopped}", err=True)
        return 130
    except click.UsageError as error:
        click.echo(f"search: error: {one_line(error.format_message())}", err=True)
        return 2
    except user_error_types() as error:
        click.echo(f"search: error: {one_line(str(error))}", err=True)
        return 2
    except OSError as error:
        if error.filename is None:  # not about a path the user named: a bug, keep the traceback
            raise
        # A path the user gave that the system refuses (too long, a file where a folder must be, read-only, ...).
        click.echo(f"search: error: {one_line(f'{error.filename}: {error.strerror}')}", err=True)
        return 2
    return 0


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """A message as one line of bounded length: it may quote user input of any size."""
    text = " ".join(message[: limit * 4].split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
