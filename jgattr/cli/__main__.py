"""``python -m jgattr.cli``: the ``jgattr`` command."""

import sys

from jgattr.cli import main

sys.exit(main())
