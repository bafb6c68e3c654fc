-- One-time links the owner sends to bring in another admin with a role. Only a hash of the
-- link's token is stored; a used or expired link opens nothing.
CREATE TABLE admin_invites (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'approver')),
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT
);

-- The browsers each admin has signed in from (a long-lived random cookie, stored hashed), so a
-- sign-in from one never seen before can be announced.
CREATE TABLE admin_devices (
    admin_id       INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    device_hash    TEXT    NOT NULL,
    first_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (admin_id, device_hash)
) WITHOUT ROWID;
