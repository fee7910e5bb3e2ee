"""``python -m hdr``: the command line (see :mod:`hdr.cli.main`), the same as the installed ``hdr`` command."""

import sys

from hdr.cli.main import main

sys.exit(main())
