-- Stancewatch schema 1: one table per record kind; each record is kept whole in `data` (the same
-- JSON the TinyDB backend writes), with the columns that queries, keys and leases need beside it.

CREATE TABLE people (
    id text PRIMARY KEY,
    data jsonb NOT NULL
);

CREATE TABLE questions (
    id text PRIMARY KEY,
    data jsonb NOT NULL
);

CREATE TABLE positions (
    id text PRIMARY KEY,
    person text NOT NULL,
    status text NOT NULL,
    data jsonb NOT NULL
);
CREATE INDEX positions_person ON positions (person, status);

CREATE TABLE feeds (
    url text PRIMARY KEY,
    next_poll double precision NOT NULL,
    paused boolean NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    data jsonb NOT NULL
);
CREATE INDEX feeds_due ON feeds (next_poll) WHERE NOT paused;

CREATE TABLE seen (
    identity text PRIMARY KEY,
    day date NOT NULL
);
CREATE INDEX seen_day ON seen (day);

CREATE TABLE inbox (
    identity text PRIMARY KEY,
    seq bigserial NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    item jsonb NOT NULL
);

CREATE TABLE subscriptions (
    channel_id bigint NOT NULL,
    target_kind text NOT NULL,
    target text NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (channel_id, target_kind, target)
);

CREATE TABLE alerted (
    id text PRIMARY KEY
);

CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    channel_id bigint NOT NULL,
    payload jsonb NOT NULL,
    message_id bigint NOT NULL DEFAULT 0,
    failure text NOT NULL DEFAULT '',
    queued double precision NOT NULL
);
CREATE INDEX outbox_pending ON outbox (id) WHERE message_id = 0;

CREATE TABLE articles (
    identity text PRIMARY KEY,
    fetched text NOT NULL,
    data jsonb NOT NULL
);

CREATE TABLE statements (
    id text PRIMARY KEY,
    person text NOT NULL,
    date text NOT NULL,
    data jsonb NOT NULL
);
CREATE INDEX statements_person ON statements (person);

CREATE TABLE judgements (
    id text PRIMARY KEY,
    person text NOT NULL,
    judged_at text NOT NULL,
    data jsonb NOT NULL
);
CREATE INDEX judgements_person ON judgements (person);
