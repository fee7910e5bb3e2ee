"""Model files on disk: the models folder, atomic writes and the one-writer-per-folder lock."""
