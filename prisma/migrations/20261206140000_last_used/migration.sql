-- When a lookup last worked for the workspace, for the card's "Last used". Ours, not the contract's.
ALTER TABLE "pipedrive_connections" ADD COLUMN "last_used_at" TIMESTAMPTZ(6);
