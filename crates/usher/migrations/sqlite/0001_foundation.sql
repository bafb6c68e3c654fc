-- Admin accounts. Usernames compare case-insensitively.
CREATE TABLE admins (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT    NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER,
    created_at     INTEGER NOT NULL,
    last_login_at  INTEGER
);

-- Admin sessions survive restarts. Only a hash of the cookie value is stored.
CREATE TABLE sessions (
    id_hash       TEXT    PRIMARY KEY,
    admin_id      INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    user_agent    TEXT
);
CREATE INDEX sessions_admin ON sessions(admin_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Installation-wide settings and one-off values (setup token hash, Plex client identifier).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Append-only audit log.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT,
    detail    TEXT
);
CREATE INDEX events_at ON events(at);
