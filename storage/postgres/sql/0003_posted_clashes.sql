-- Schema 3: the clash alerts posted to each channel, which later statements on the same clash join for a week.
-- No foreign key to outbox: delivered outbox rows are pruned after a week, and these rows with them (prune()).
CREATE TABLE posted_clashes (
    outbox_id bigint PRIMARY KEY,
    person text NOT NULL,
    opened text NOT NULL,
    data jsonb NOT NULL
);
CREATE INDEX posted_clashes_person ON posted_clashes (person, opened);
