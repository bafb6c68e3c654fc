-- Members and expiry: changing access after the fact, pausing and resuming accounts, ending
-- access when it expires, reminders, and keeping usher's picture in step with each server.

-- New job kinds: `update` pushes changed libraries/permissions, `disable`/`enable` pause and resume
-- an account. SQLite cannot change a CHECK constraint, so the table is rebuilt with its rows.
CREATE TABLE jobs_new (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('provision', 'remove', 'update', 'disable', 'enable')),
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
INSERT INTO jobs_new (id, kind, grant_id, payload, state, attempts, run_at, locked_until, last_error,
                      created_at, updated_at)
    SELECT id, kind, grant_id, payload, state, attempts, run_at, locked_until, last_error,
           created_at, updated_at
    FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE INDEX jobs_grant ON jobs(grant_id, state);

-- `reminded_at`: the expiry reminder was recorded (once per expiry date; cleared when the date
-- changes). `gone_at`: the last sync did not find this access on the server any more.
ALTER TABLE grants ADD COLUMN reminded_at INTEGER;
ALTER TABLE grants ADD COLUMN gone_at INTEGER;
CREATE INDEX grants_remote ON grants(server_id, remote_id);

-- What happens when a grant expires on this server. Plex cannot pause a share, so Plex grants are
-- always removed. `disable_then_remove` removes `expiry_remove_after_days` after the expiry.
ALTER TABLE servers ADD COLUMN expiry_action TEXT NOT NULL DEFAULT 'disable_then_remove'
    CHECK (expiry_action IN ('disable', 'remove', 'disable_then_remove'));
ALTER TABLE servers ADD COLUMN expiry_remove_after_days INTEGER NOT NULL DEFAULT 30
    CHECK (expiry_remove_after_days BETWEEN 0 AND 3650);
ALTER TABLE servers ADD COLUMN synced_at INTEGER;
ALTER TABLE servers ADD COLUMN sync_error TEXT;

-- A member's history is the events that name them.
ALTER TABLE events ADD COLUMN member_id INTEGER REFERENCES members(id) ON DELETE SET NULL;
CREATE INDEX events_member ON events(member_id, id);
UPDATE events SET member_id = (
    SELECT g.member_id FROM grants g JOIN servers s ON s.id = g.server_id
    WHERE events.subject = g.identity || ' on ' || s.name
    ORDER BY g.id DESC LIMIT 1)
WHERE member_id IS NULL AND action LIKE 'grant.%';

-- Notices for the owner that must go out once only (a removal that keeps failing, a reminder).
-- The key says what the notice is about; a second notice with the same key is dropped.
CREATE TABLE owner_notices (
    key        TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    member_id  INTEGER REFERENCES members(id) ON DELETE SET NULL,
    at         INTEGER NOT NULL
);

-- The members page sorts by name and filters by origin, server and status over thousands of
-- members. Per member, grants are found by member, then server and status (this index replaces
-- the one on member alone, so the planner never walks a whole server's grants per member).
DROP INDEX grants_member;
CREATE INDEX grants_member ON grants(member_id, server_id, status);
CREATE INDEX members_name ON members(display_name COLLATE NOCASE, id);
CREATE INDEX members_origin ON members(origin);
CREATE INDEX members_plex_account ON members(plex_account);
CREATE INDEX members_username ON members(username);
