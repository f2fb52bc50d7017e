-- The outbox of admins' mail, read by workspace (a new mail looks at the last day's) and by what
-- is still owed (the keeper's delivery): without these, both scanned every mail ever kept.
CREATE INDEX "pipedrive_notifications_tenant_idx" ON "pipedrive_notifications" ("tenant_id", "id");
CREATE INDEX "pipedrive_notifications_owed_idx" ON "pipedrive_notifications" ("id") WHERE "done_at" IS NULL;
