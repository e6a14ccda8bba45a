"""The output folder on disk: atomic writes, the journal, its fold, the lockfile, the lock."""
