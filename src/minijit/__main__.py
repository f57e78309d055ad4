"""``python -m minijit`` is the ``minijit`` command."""

from minijit.cli.main import main

raise SystemExit(main())
