"""`python -m chatconform`, the same as the console script."""

import sys

from chatconform.cli import main

sys.exit(main())
