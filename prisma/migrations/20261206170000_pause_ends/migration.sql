-- The keeper's minute scan finds daily pauses whose time is up (to tell their workspaces lookups
-- resumed) among recent pause and resume rows only.
CREATE INDEX "pipedrive_audit_events_pauses_idx" ON "pipedrive_audit_events" ("created_at")
  WHERE "event" IN ('paused', 'resumed');
