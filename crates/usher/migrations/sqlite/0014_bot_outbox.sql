-- The bot's messages about requests (the announcement with its buttons, then the outcome) go
-- through the outbox too. They have neither a channel nor a recipient: the bot's chat is in the
-- settings. SQLite cannot change a CHECK in place, so the table is rebuilt.
CREATE TABLE notify_deliveries_new (
    id            INTEGER PRIMARY KEY,
    channel_id    INTEGER REFERENCES notify_channels(id) ON DELETE CASCADE,
    recipient     TEXT,
    event         TEXT    NOT NULL,
    lang          TEXT    NOT NULL DEFAULT 'en',
    payload       TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        INTEGER NOT NULL,
    locked_until  INTEGER,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK (channel_id IS NOT NULL OR recipient IS NOT NULL OR event IN ('bot.announce', 'bot.outcome'))
);
INSERT INTO notify_deliveries_new SELECT id, channel_id, recipient, event, lang, payload, state,
    attempts, run_at, locked_until, last_error, created_at, updated_at FROM notify_deliveries;
DROP TABLE notify_deliveries;
ALTER TABLE notify_deliveries_new RENAME TO notify_deliveries;
CREATE INDEX notify_deliveries_due ON notify_deliveries(state, run_at);
CREATE INDEX notify_deliveries_channel ON notify_deliveries(channel_id, id);
