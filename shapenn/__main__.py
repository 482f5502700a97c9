"""``python -m shapenn``: the same as the ``shapenn`` command."""

import sys

from .cli import main

sys.exit(main())
