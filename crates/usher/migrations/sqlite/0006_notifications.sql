-- Notifications: the owner's channels (Telegram, Discord, email, a generic webhook) and an outbox
-- of deliveries that a worker sends with retries, so the action that caused a notification never
-- waits for it. And the audit log learns which server an event concerns.

-- `target_sealed`: the Discord or webhook URL, sealed (it carries the Discord token; a webhook URL
-- may carry one too). `target_hint` is what pages show instead (`discord.com/…`).
-- `address`: the email channel's recipient. `secret_sealed`: the webhook's signing secret.
-- `events`: a JSON array of event kinds (`["request.created", …]`).
CREATE TABLE notify_channels (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('telegram', 'discord', 'email', 'webhook')),
    name           TEXT    NOT NULL,
    target_sealed  TEXT,
    target_hint    TEXT,
    address        TEXT,
    secret_sealed  TEXT,
    events         TEXT    NOT NULL DEFAULT '[]',
    lang           TEXT    NOT NULL DEFAULT 'en',
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- One message for one channel (or, with `channel_id` empty, an email to `recipient`, e.g. a
-- member's expiry reminder). `payload` is the JSON body a webhook receives; other channels are
-- rendered from it. A delivery is claimed with a lease (`sending` until `locked_until`), retried
-- with backoff, and `failed` for good after a bounded number of attempts, with the reason kept.
CREATE TABLE notify_deliveries (
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
    CHECK (channel_id IS NOT NULL OR recipient IS NOT NULL)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries(state, run_at);
CREATE INDEX notify_deliveries_channel ON notify_deliveries(channel_id, id);

-- The audit log filters by server and by action.
ALTER TABLE events ADD COLUMN server_id INTEGER REFERENCES servers(id) ON DELETE SET NULL;
CREATE INDEX events_server ON events(server_id, id);
CREATE INDEX events_action ON events(action, id);
-- Events written before: a grant's events name it `identity on Server`, a server's its name.
UPDATE events SET server_id = (
    SELECT s.id FROM servers s
    WHERE (events.action LIKE 'server.%' AND events.subject = s.name)
       OR (events.action NOT LIKE 'server.%'
           AND substr(events.subject, -length(' on ' || s.name)) = ' on ' || s.name)
    ORDER BY length(s.name) DESC LIMIT 1)
WHERE server_id IS NULL AND subject IS NOT NULL
  AND (action LIKE 'grant.%' OR action LIKE 'member.%' OR action LIKE 'notify.%'
       OR action LIKE 'server.%');
