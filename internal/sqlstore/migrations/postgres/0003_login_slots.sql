-- 0003: sign-in attempts in flight per account, so that however many
-- attempts arrive at once, no more wrong passwords are evaluated than the
-- lockout allows. A count older than a minute is stale (a process died
-- mid-attempt) and ignored.
ALTER TABLE users ADD COLUMN login_inflight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN login_inflight_at TIMESTAMPTZ;
