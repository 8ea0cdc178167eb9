"""``python -m tui.commands ...``: the ``inferdeck`` command without its console script."""

import sys

from tui.commands.main import main

sys.exit(main())
