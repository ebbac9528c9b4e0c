"""One module per ``search`` subcommand."""
