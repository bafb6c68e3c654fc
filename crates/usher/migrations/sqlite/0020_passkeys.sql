-- Passkeys (WebAuthn). Each admin has a random handle that authenticators store with their
-- passkeys: it names the account without giving away its id or name.
ALTER TABLE admins ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX admins_webauthn_handle ON admins(webauthn_handle);

-- An admin's passkeys: the credential as the WebAuthn library keeps it (public key, signature
-- counter, flags), looked up by the credential id an authenticator answers with.
CREATE TABLE admin_passkeys (
    id             INTEGER PRIMARY KEY,
    admin_id       INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    credential_id  TEXT    NOT NULL UNIQUE,
    passkey        TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
);
CREATE INDEX admin_passkeys_admin ON admin_passkeys(admin_id);

-- A WebAuthn ceremony between its two halves: the challenge sent to the browser and what is
-- needed to check the answer. The browser holds the token; only its hash is here. A ceremony
-- is taken once and lasts a few minutes.
CREATE TABLE webauthn_ceremonies (
    token_hash  TEXT    PRIMARY KEY,
    admin_id    INTEGER REFERENCES admins(id) ON DELETE CASCADE,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('register', 'sign_in', 'second_step')),
    state       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);
