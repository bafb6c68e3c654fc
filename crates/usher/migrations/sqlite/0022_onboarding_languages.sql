-- Steps the owner writes are kept per language. Rows written before this have no language ('')
-- and keep being shown in every language that has none of its own, as they were.
ALTER TABLE onboarding_steps ADD COLUMN lang TEXT NOT NULL DEFAULT '';
DROP INDEX onboarding_kind;
CREATE INDEX onboarding_kind ON onboarding_steps(kind, lang, position);
