-- The language a person used on the request form or the invite page: what usher writes to them
-- (approval, decline, welcome, expiry reminders) is in that language.
ALTER TABLE requests ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
ALTER TABLE members ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
