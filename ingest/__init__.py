"""Getting feed items in: HTTP fetching behind the SSRF guard (``http``), parsing RSS, Atom and JSON feeds
(``parse``), text encodings and dates as feeds serve them, and the intake decision of what is new (``intake``)."""
