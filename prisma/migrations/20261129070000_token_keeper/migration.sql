-- When the keeper should next renew this connection: before its token enters the keeper
-- window, or before its refresh token has gone unused too long. Indexed so the due-query stays
-- an index scan at any number of tenants; the shared table gets no index of ours.
ALTER TABLE "pipedrive_connections" ADD COLUMN "next_refresh_at" TIMESTAMPTZ(6);
UPDATE "pipedrive_connections" SET "next_refresh_at" = now();
CREATE INDEX "pipedrive_connections_next_refresh_at_idx" ON "pipedrive_connections"("next_refresh_at");

-- Until when Pipedrive asked us to stop calling a company's API (a spent daily budget), for
-- every process and instance, not only the one that saw the 429.
CREATE TABLE "pipedrive_rate_limits" (
    "api_host" VARCHAR(255) NOT NULL,
    "blocked_until" TIMESTAMPTZ(6) NOT NULL,
    "reason" VARCHAR(200) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipedrive_rate_limits_pkey" PRIMARY KEY ("api_host")
);

-- The keeper's last signs of life, one row per kind of pass, for the page and health checks.
CREATE TABLE "keeper_heartbeats" (
    "name" VARCHAR(40) NOT NULL,
    "beat_at" TIMESTAMPTZ(6) NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "keeper_heartbeats_pkey" PRIMARY KEY ("name")
);
