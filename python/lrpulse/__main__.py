"""``python -m lrpulse``: the ``lrpulse`` command."""

from .cli import main

raise SystemExit(main())
