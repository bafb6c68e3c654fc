-- Steps people see after joining (per server kind) or must accept before redeeming ('before').
-- No rows for a kind means the built-in, translated defaults are shown.
CREATE TABLE onboarding_steps (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('plex', 'jellyfin', 'emby', 'before')),
    position    INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX onboarding_kind ON onboarding_steps(kind, position);
