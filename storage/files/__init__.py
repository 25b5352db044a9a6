"""The TinyDB backend, whole: crash-safe JSON files and journals in one data directory, for one process
(:class:`storage.files.store.Store` joins the per-area repositories kept in this folder)."""
