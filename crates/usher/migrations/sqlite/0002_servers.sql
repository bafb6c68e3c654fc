-- Connected media servers. The token (Plex token or Jellyfin/Emby API key) is stored sealed with
-- the installation's secret key, never in the clear.
CREATE TABLE servers (
    id                          INTEGER PRIMARY KEY,
    name                        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    kind                        TEXT    NOT NULL CHECK (kind IN ('plex', 'jellyfin', 'emby')),
    url                         TEXT    NOT NULL,
    token_sealed                TEXT    NOT NULL,
    remote_id                   TEXT,
    version                     TEXT,
    status                      TEXT    NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'ok', 'error')),
    status_message              TEXT,
    warning                     TEXT,
    checked_at                  INTEGER,
    scanned_at                  INTEGER,
    default_allow_downloads     INTEGER NOT NULL DEFAULT 0,
    default_allow_live_tv       INTEGER NOT NULL DEFAULT 0,
    default_allow_camera_upload INTEGER NOT NULL DEFAULT 0,
    default_max_sessions        INTEGER,
    created_at                  INTEGER NOT NULL,
    updated_at                  INTEGER NOT NULL
);

-- Libraries as the last scan found them. `remote_id` is the id the sharing API needs (Plex global
-- section id, Jellyfin folder Id, Emby folder Guid). `enabled`: offered for sharing at all;
-- `is_default`: pre-checked for new grants; `present`: still on the server at the last scan.
CREATE TABLE libraries (
    id          INTEGER PRIMARY KEY,
    server_id   INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    remote_id   TEXT    NOT NULL,
    local_key   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    is_default  INTEGER NOT NULL DEFAULT 1,
    present     INTEGER NOT NULL DEFAULT 1,
    scanned_at  INTEGER NOT NULL,
    UNIQUE (server_id, remote_id)
);
CREATE INDEX libraries_server ON libraries(server_id);
