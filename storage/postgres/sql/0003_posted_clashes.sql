-- Schema 3: the clash alerts posted to each channel, which later statements on the same clash join for a week.
CREATE TABLE posted_clashes (
    outbox_id bigint PRIMARY KEY REFERENCES outbox (id),
    person text NOT NULL,
    opened text NOT NULL,
    data jsonb NOT NULL
);
CREATE INDEX posted_clashes_person ON posted_clashes (person, opened);
