"""``python -m kurahw`` runs the command-line interface."""

import sys

from kurahw.cli import main

sys.exit(main())
