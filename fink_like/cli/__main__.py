"""``python -m fink_like.cli``: the ``fink-like`` command without the console script."""

import sys

from fink_like.cli import main

sys.exit(main())
