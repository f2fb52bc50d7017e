-- A Pipedrive Marketplace install waiting for a signed-in admin's confirmation: first the code
-- (it lives 5 minutes), then the grant it was exchanged for. Bound to one browser by the hash of
-- an httpOnly cookie. Never in the shared table; the keeper purges what was abandoned.
CREATE TABLE "pipedrive_pending_installs" (
    "browser_hash" CHAR(64) NOT NULL,
    "code" TEXT,
    "code_expires_at" TIMESTAMPTZ(6) NOT NULL,
    "tenant_id" UUID,
    "user_id" UUID,
    "access_token" TEXT,
    "refresh_token" TEXT,
    "expires_in" INTEGER,
    "api_host" TEXT,
    "scopes" TEXT[],
    "me" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "pipedrive_pending_installs_pkey" PRIMARY KEY ("browser_hash")
);

CREATE INDEX "pipedrive_pending_installs_expires_at_idx" ON "pipedrive_pending_installs"("expires_at");

ALTER TABLE "pipedrive_pending_installs" ADD CONSTRAINT "pipedrive_pending_installs_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
