-- Schema 2: each outbox message knows its guild, so that the process holding the guild's gateway shard delivers it.
ALTER TABLE outbox ADD COLUMN guild_id bigint NOT NULL DEFAULT 0;
CREATE INDEX inbox_free ON inbox (lease_until, seq);
