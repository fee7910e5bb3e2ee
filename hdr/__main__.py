"""``python -m hdr``: the command line (see :mod:`hdr.cli`)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is not for CLI users

from hdr.cli import main  # noqa: E402  (after the environment is set)

sys.exit(main())
