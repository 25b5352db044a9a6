-- Schema 5: each server's moderator reviews of clash alerts, the labelled pairs a server's judge can learn from.
CREATE TABLE moderator_reviews (
    guild_id bigint NOT NULL,
    judgement_id text NOT NULL,
    at text NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (guild_id, judgement_id)
);
CREATE INDEX moderator_reviews_at ON moderator_reviews (at);
