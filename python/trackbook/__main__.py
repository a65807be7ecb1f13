"""``python -m trackbook``: the same as the ``trackbook`` command."""

import sys

from .cli import main

sys.exit(main())
