"""Who receives what: subscriptions matched against an article's outcome, and the typed outbox messages queued for
them. Discord-free: the Discord layer renders these messages."""
