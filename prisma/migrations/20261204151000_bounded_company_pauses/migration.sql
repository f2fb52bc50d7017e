-- A company pause is never longer than a day (lib/pipedrive/http.ts, MAX_UPSTREAM_WAIT_MS): an
-- unbounded Retry-After once stored one until the year 2343. Bring any such row back within a day.
UPDATE "pipedrive_rate_limits" SET "blocked_until" = now() + interval '24 hours'
 WHERE "blocked_until" > now() + interval '24 hours';
