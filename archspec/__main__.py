"""``python -m archspec``: the CLI (also what ``torchrun -m archspec train`` runs)."""

import sys

from archspec.cli import entry

sys.exit(entry())
