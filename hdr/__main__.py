"""``python -m hdr``: the command line (see :mod:`hdr.cli`)."""

import sys

from hdr.cli import main

sys.exit(main())
