-- Access profiles (tiers): named sets of servers, libraries, permissions and duration that
-- invites and approvals are made from. Invites and grants remember their profile so an edited
-- profile can be applied to the members who hold it.
CREATE TABLE profiles (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    description  TEXT    NOT NULL DEFAULT '',
    duration     TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE profile_servers (
    profile_id   INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    server_id    INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    libraries    TEXT    NOT NULL,
    permissions  TEXT    NOT NULL,
    PRIMARY KEY (profile_id, server_id)
);

ALTER TABLE invites ADD COLUMN profile_id INTEGER REFERENCES profiles(id) ON DELETE SET NULL;
-- Invites created together (bulk) share a batch id, for listing and CSV export.
ALTER TABLE invites ADD COLUMN batch TEXT;
ALTER TABLE grants ADD COLUMN profile_id INTEGER REFERENCES profiles(id) ON DELETE SET NULL;
CREATE INDEX invites_batch ON invites(batch) WHERE batch IS NOT NULL;
CREATE INDEX grants_profile ON grants(profile_id) WHERE profile_id IS NOT NULL;
