"""`python3 -m models.datagen`: see cli.py."""

import sys

from .cli import main

sys.exit(main())
