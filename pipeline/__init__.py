"""The walk of an article, end to end: the watcher schedules polls and workers (``watcher``), and each accepted item
is fetched, analysed and committed with its outbox messages in one unit of work (``update``)."""
