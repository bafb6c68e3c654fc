-- Access requests from the public form. One pending request per email at a time.
CREATE TABLE requests (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL,
    email                TEXT    NOT NULL COLLATE NOCASE,
    note                 TEXT,
    status               TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'expired')),
    client_ip            TEXT,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    decided_at           INTEGER,
    decided_by           TEXT,
    decline_reason       TEXT,
    -- What approval produced: a member (Plex shares) and/or a personal invite (Jellyfin/Emby
    -- accounts the requester creates themselves).
    member_id            INTEGER REFERENCES members(id) ON DELETE SET NULL,
    invite_id            INTEGER REFERENCES invites(id) ON DELETE SET NULL,
    outcome              TEXT,
    -- The Telegram message that carries the buttons, and the library picker's selection
    -- (a JSON array of library row ids): button presses only carry the request id.
    telegram_chat_id     INTEGER,
    telegram_message_id  INTEGER,
    picker               TEXT
);
CREATE UNIQUE INDEX requests_one_pending_per_email ON requests(email) WHERE status = 'pending';
CREATE INDEX requests_status ON requests(status, created_at);
