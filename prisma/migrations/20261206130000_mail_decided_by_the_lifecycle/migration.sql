-- Which moves mail, and the one-mail-per-incident rule, are decided by
-- lib/pipedrive/connection/lifecycle.ts alone now: the connection's move executor writes the mail
-- owed in the move's own transaction. The trigger that re-derived it from the audit trail goes.
DROP TRIGGER IF EXISTS "pipedrive_notify_on_audit" ON "pipedrive_audit_events";
DROP FUNCTION IF EXISTS "pipedrive_notify_on_audit"();
