-- The members page sorts by when access ends: the earliest expiry of a member's live grants
-- (provisioning, pending, active, disabled). Working it out per member on every view made the
-- sort read every grant of every member; it is kept on the member instead, by the triggers
-- below, so the sort walks an index. Whatever writes grants (usher, its CLI in another process,
-- a restore) keeps it true without knowing about it.
ALTER TABLE members ADD COLUMN earliest_expiry INTEGER;

UPDATE members SET earliest_expiry = (
    SELECT MIN(g.expires_at) FROM grants g
    WHERE g.member_id = members.id
      AND g.status IN ('provisioning', 'pending', 'active', 'disabled'));

CREATE TRIGGER grants_expiry_inserted AFTER INSERT ON grants BEGIN
    UPDATE members SET earliest_expiry = (
        SELECT MIN(g.expires_at) FROM grants g
        WHERE g.member_id = NEW.member_id
          AND g.status IN ('provisioning', 'pending', 'active', 'disabled'))
    WHERE id = NEW.member_id;
END;

CREATE TRIGGER grants_expiry_updated AFTER UPDATE OF status, expires_at, member_id ON grants BEGIN
    UPDATE members SET earliest_expiry = (
        SELECT MIN(g.expires_at) FROM grants g
        WHERE g.member_id = members.id
          AND g.status IN ('provisioning', 'pending', 'active', 'disabled'))
    WHERE id IN (NEW.member_id, OLD.member_id);
END;

CREATE TRIGGER grants_expiry_deleted AFTER DELETE ON grants BEGIN
    UPDATE members SET earliest_expiry = (
        SELECT MIN(g.expires_at) FROM grants g
        WHERE g.member_id = OLD.member_id
          AND g.status IN ('provisioning', 'pending', 'active', 'disabled'))
    WHERE id = OLD.member_id;
END;

-- Members without an expiry come last in either direction: one index for each direction,
-- the second walked backwards.
CREATE INDEX members_expiry_up ON members((earliest_expiry IS NULL), earliest_expiry, id);
CREATE INDEX members_expiry_down ON members((earliest_expiry IS NOT NULL), earliest_expiry, id);

-- A member's live grants and their expiries, read from the index alone.
CREATE INDEX grants_member_expiry ON grants(member_id, status, expires_at);
