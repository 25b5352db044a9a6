"""``python -m cli COMMAND``: the same command line as ``python bot.py COMMAND``."""

import sys

from cli import main

sys.exit(main())
