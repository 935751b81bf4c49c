# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds the OpenNGC catalogue the driver embeds (models/data/openngc.tsv) from the pyongc wheel."""
