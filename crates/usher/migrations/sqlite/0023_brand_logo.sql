-- The owner's logo for friend pages and emails: one image, kept in the database so a backup
-- carries it. Which one is current, and its type, is in the settings document.
CREATE TABLE brand_logo (
    fingerprint  TEXT    PRIMARY KEY,
    bytes        BLOB    NOT NULL,
    updated_at   INTEGER NOT NULL
);
