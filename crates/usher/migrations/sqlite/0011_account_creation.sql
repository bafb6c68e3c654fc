-- The account name a provisioning job found free on the server and then set out to create.
-- A retry after a lost answer or a crash finds that account made and finishes it; an account
-- that already had the name before the job began is never taken over.
ALTER TABLE jobs ADD COLUMN creating TEXT;
