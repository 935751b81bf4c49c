# SPDX-License-Identifier: GPL-3.0-or-later
"""`python3 -m dso_training.datagen`: see cli.py."""

import sys

from .cli import main

sys.exit(main())
