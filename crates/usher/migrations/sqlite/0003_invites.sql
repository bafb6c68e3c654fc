-- Invites: a code that grants access to chosen libraries on one or more servers.
-- `used` is reserved atomically at redemption (`used < max_uses` in the same UPDATE), so an invite
-- with N uses yields exactly N members however many people race for it.
CREATE TABLE invites (
    id              INTEGER PRIMARY KEY,
    code            TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    label           TEXT,
    max_uses        INTEGER CHECK (max_uses IS NULL OR max_uses > 0),
    used            INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    expires_at      INTEGER,
    access_seconds  INTEGER,
    passphrase_hash TEXT,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_by      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    CHECK (max_uses IS NULL OR used <= max_uses)
);
CREATE INDEX invites_created ON invites(created_at);

-- What an invite grants on each of its servers. `libraries` is a JSON array of sharing ids,
-- `permissions` a JSON object (downloads, Live TV, …).
CREATE TABLE invite_servers (
    invite_id    INTEGER NOT NULL REFERENCES invites(id) ON DELETE CASCADE,
    server_id    INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    libraries    TEXT    NOT NULL,
    permissions  TEXT    NOT NULL,
    PRIMARY KEY (invite_id, server_id)
);

-- People with (or who had) access through usher. `identity_key` is the lower-cased email or
-- user name a redemption used; one person cannot redeem the same invite twice.
CREATE TABLE members (
    id             INTEGER PRIMARY KEY,
    display_name   TEXT    NOT NULL,
    email          TEXT    COLLATE NOCASE,
    plex_account   TEXT    COLLATE NOCASE,
    username       TEXT    COLLATE NOCASE,
    identity_key   TEXT    NOT NULL,
    origin         TEXT    NOT NULL CHECK (origin IN ('invite', 'request', 'imported')),
    invite_id      INTEGER REFERENCES invites(id) ON DELETE SET NULL,
    invite_code    TEXT,
    notes          TEXT,
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX members_once_per_invite ON members(invite_id, identity_key) WHERE invite_id IS NOT NULL;
CREATE INDEX members_created ON members(created_at);
CREATE INDEX members_email ON members(email);

-- One member's access on one server.
-- provisioning → pending (Plex invite not accepted yet) → active → disabled | removed; failed when
-- the server refused for good.
CREATE TABLE grants (
    id              INTEGER PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    server_id       INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    status          TEXT    NOT NULL CHECK (status IN ('provisioning', 'pending', 'active', 'disabled', 'removed', 'failed')),
    identity        TEXT    NOT NULL,
    libraries       TEXT    NOT NULL,
    permissions     TEXT    NOT NULL,
    remote_id       TEXT,
    remote_user_id  TEXT,
    expires_at      INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX grants_member ON grants(member_id);
CREATE INDEX grants_server ON grants(server_id, status);
CREATE INDEX grants_expiry ON grants(expires_at) WHERE expires_at IS NOT NULL;

-- Work to make grants real on servers, written in the same transaction as what caused it and
-- retried with backoff. `payload` holds sealed secrets a job needs (a new account's password) and
-- is cleared when the job ends.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('provision', 'remove')),
    grant_id      INTEGER NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    payload       TEXT,
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        INTEGER NOT NULL,
    locked_until  INTEGER,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE INDEX jobs_grant ON jobs(grant_id);
