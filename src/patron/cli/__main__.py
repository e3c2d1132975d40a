"""`python -m patron.cli`: the `patron` command."""

import sys

from patron.cli import main

sys.exit(main())
