-- What each admin may do. The accounts made before roles existed could do everything: they are
-- owners.
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'owner'
    CHECK (role IN ('owner', 'admin', 'approver'));

-- The Telegram account (an allow-listed id) the bot takes for this admin: its presses are the
-- admin's, and the events log names them.
ALTER TABLE admins ADD COLUMN telegram_id INTEGER;
CREATE UNIQUE INDEX admins_telegram ON admins(telegram_id) WHERE telegram_id IS NOT NULL;

-- Where a session signed in from, for the account page's list of devices.
ALTER TABLE sessions ADD COLUMN address TEXT;
