"""`python -m patron`: the `patron` command."""

import sys

from patron.cli import main

sys.exit(main())
