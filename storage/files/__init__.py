"""The TinyDB backend's repositories, one module an area; :class:`storage.store.Store` joins them."""
