"""The ``hdr`` command line: its parser (``main``) and the commands behind it."""
