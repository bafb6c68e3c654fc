-- The address friends open for a server (the connection URL is often a LAN or loopback address
-- usher uses itself). NULL: the connection URL when it is public, else none.
ALTER TABLE servers ADD COLUMN friend_url TEXT;

-- Plex Home members get steps of their own ('plex_home'): they have no invitation to accept.
CREATE TABLE onboarding_steps_new (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('plex', 'plex_home', 'jellyfin', 'emby', 'before')),
    position    INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO onboarding_steps_new SELECT * FROM onboarding_steps;
DROP TABLE onboarding_steps;
ALTER TABLE onboarding_steps_new RENAME TO onboarding_steps;
CREATE INDEX onboarding_kind ON onboarding_steps(kind, position);

-- Codes the owner chose can be guessed from a dictionary; generated ones cannot. Only the former
-- are held back from an address that has been guessing (see the invite code-miss limiter).
ALTER TABLE invites ADD COLUMN custom_code INTEGER NOT NULL DEFAULT 0;
UPDATE invites SET custom_code = 1
 WHERE length(code) != 10 OR code GLOB '*[^23456789ABCDEFGHJKMNPQRSTUVWXYZ]*';

-- Whether approving a request starts with this server ticked (when no request profile is set).
-- Servers connected later start unticked, so a new server is never handed out by surprise;
-- servers already connected keep being ticked as they were.
ALTER TABLE servers ADD COLUMN request_default INTEGER NOT NULL DEFAULT 0;
UPDATE servers SET request_default = 1;

-- Failed sign-ins are counted per address and account in the running server now, so a stranger
-- cannot lock the owner out; the per-account counters are gone.
ALTER TABLE admins DROP COLUMN failed_logins;
ALTER TABLE admins DROP COLUMN locked_until;
