-- Plex shares wait for the friend to accept the emailed invitation. Each pending Plex grant is
-- checked on a short back-off schedule so its acceptance shows within minutes, not at the next
-- full sync.
CREATE TABLE acceptance_checks (
    grant_id   INTEGER PRIMARY KEY REFERENCES grants(id) ON DELETE CASCADE,
    next_at    INTEGER NOT NULL,
    checks     INTEGER NOT NULL DEFAULT 0,
    since      INTEGER NOT NULL
);
CREATE INDEX acceptance_checks_due ON acceptance_checks(next_at);
