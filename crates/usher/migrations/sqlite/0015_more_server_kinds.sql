-- The kinds of server usher connects now include Audiobookshelf, Navidrome, Komga, Kavita and
-- RomM, and each has its own list of onboarding steps. Widening a CHECK changes nothing stored,
-- so the two table definitions are edited in place, the way SQLite documents for constraint
-- changes that every existing row already satisfies (a rebuild would cascade through every
-- table that refers to servers). The schema version is bumped so every connection re-reads it.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql,
       'CHECK (kind IN (''plex'', ''jellyfin'', ''emby''))',
       'CHECK (kind IN (''plex'', ''jellyfin'', ''emby'', ''audiobookshelf'', ''navidrome'', ''komga'', ''kavita'', ''romm''))')
 WHERE type = 'table' AND name = 'servers';
UPDATE sqlite_schema
   SET sql = replace(sql,
       'CHECK (kind IN (''plex'', ''plex_home'', ''jellyfin'', ''emby'', ''before''))',
       'CHECK (kind IN (''plex'', ''plex_home'', ''jellyfin'', ''emby'', ''audiobookshelf'', ''navidrome'', ''komga'', ''kavita'', ''romm'', ''before''))')
 WHERE type = 'table' AND name = 'onboarding_steps';
PRAGMA writable_schema = OFF;
-- Proof that both definitions were edited: on a database whose text differed, `replace` would
-- change nothing and the migration would still be recorded. A failed check rolls it all back.
CREATE TEMP TABLE migration_15_check (edited INTEGER NOT NULL CHECK (edited = 2));
INSERT INTO migration_15_check
SELECT count(*) FROM sqlite_schema
 WHERE type = 'table' AND name IN ('servers', 'onboarding_steps') AND sql LIKE '%''kavita''%';
DROP TABLE migration_15_check;
