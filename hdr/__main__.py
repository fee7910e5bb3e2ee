"""``python -m hdr``: the command line (see :mod:`hdr.cli`), the same as the installed ``hdr`` command."""

import sys

from hdr.cli import main

sys.exit(main())
