"""``python -m fuzz``: run the fuzz campaigns (see :mod:`fuzz.run`)."""

import sys

from fuzz.run import main

sys.exit(main())
