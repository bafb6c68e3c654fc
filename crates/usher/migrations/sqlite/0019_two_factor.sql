-- Authenticator codes as a second step after the password. The secret is sealed with the
-- installation key; it is on only once a code from it has been checked (totp_enabled_at).
-- The last step used is kept so a code cannot be used twice.
ALTER TABLE admins ADD COLUMN totp_secret_sealed TEXT;
ALTER TABLE admins ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE admins ADD COLUMN totp_last_step INTEGER;

-- Ten one-time codes for a lost phone, kept as hashes, each used once.
CREATE TABLE admin_recovery_codes (
    admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (admin_id, code_hash)
) WITHOUT ROWID;

-- A sign-in between its steps: the password was right, the second step is still to come. The
-- browser holds the token (a short-lived cookie); only its hash is here.
CREATE TABLE sign_in_steps (
    token_hash  TEXT    PRIMARY KEY,
    admin_id    INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    next        TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);
