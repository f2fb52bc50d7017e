-- The client address that held a Marketplace install's code: anonymous callbacks are capped per
-- address (lib/pipedrive/marketplace.ts). Our own table; the shared one is untouched.
ALTER TABLE "pipedrive_pending_installs" ADD COLUMN "client_address" VARCHAR(64);

CREATE INDEX "pipedrive_pending_installs_client_address_expires_at_idx" ON "pipedrive_pending_installs"("client_address", "expires_at");
