"""Layer 6: the ``mj`` demo and the ``minijit`` command with its subcommands."""
