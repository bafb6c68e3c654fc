-- An API key holds no more than its script needs: reading, the requests queue, or everything.
-- Keys made before scopes existed could do everything, and keep that.
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'
    CHECK (scope IN ('read', 'requests', 'full'));
