# SPDX-License-Identifier: GPL-3.0-or-later
"""Training every model in one pass on a GPU machine lent for minutes, with no network: prepare.py packs what
it needs here, train_all.sh runs there."""
