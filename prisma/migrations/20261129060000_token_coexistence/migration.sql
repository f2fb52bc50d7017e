-- A refresh token Pipedrive refused, as a sha256 hash: another writer may have rotated it,
-- so it only proves the grant is gone while it is still the one in the shared row.
ALTER TABLE "pipedrive_connections" ADD COLUMN "rejected_refresh_token_hash" CHAR(64);

-- When we last refreshed successfully: Pipedrive drops refresh tokens unused for 60 days.
ALTER TABLE "pipedrive_connections" ADD COLUMN "last_refreshed_at" TIMESTAMPTZ(6);
