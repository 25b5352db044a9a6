-- Schema 4: each server's review channel, where clash alerts of subscriptions with review required wait.
CREATE TABLE review_desks (
    guild_id bigint PRIMARY KEY,
    channel_id bigint NOT NULL
);
