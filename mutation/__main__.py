"""``python -m mutation``: run the mutation tests (see :mod:`mutation.run`)."""

import sys

from mutation.run import main

sys.exit(main())
