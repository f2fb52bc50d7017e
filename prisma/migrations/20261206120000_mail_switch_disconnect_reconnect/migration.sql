-- Admins hear of every change that matters: a Disconnect (naming who), a switch of Pipedrive user
-- (naming both users: whose data enrichment reads changes), and a Reconnect that fixes a
-- connection that had mailed "stopped working". lib/pipedrive/connection/lifecycle.ts decides
-- which moves mail (MAILED_EVENTS, mailOf, mailFor); this trigger carries that out in the move's
-- own transaction, and a property test holds the two together over random histories.
CREATE OR REPLACE FUNCTION "pipedrive_notify_on_audit"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  mail TEXT;
  repeat BOOLEAN := false;
BEGIN
  mail := CASE
    WHEN NEW."event" IN ('refresh_failed', 'recovered', 'uninstalled', 'needs_permissions', 'subscription_lapsed',
                         'access_forbidden', 'disconnected') THEN NEW."event"
    WHEN NEW."event" = 'reconnected' AND NEW."detail" ? 'fromPipedriveUserId' THEN 'switched_user'
    WHEN NEW."event" = 'reconnected' AND NEW."detail"->>'fromStatus' = 'needs_reconnect' THEN 'recovered'
    ELSE NULL
  END;
  IF mail IS NULL THEN
    RETURN NEW;
  END IF;
  IF mail IN ('subscription_lapsed', 'access_forbidden') THEN
    repeat := EXISTS (
      SELECT 1 FROM "pipedrive_notifications"
      WHERE "tenant_id" = NEW."tenant_id" AND "event" = mail AND "outcome" IS DISTINCT FROM 'repeat'
        AND "created_at" > NEW."created_at" - interval '1 day');
  ELSIF mail = 'recovered' THEN
    repeat := (
      SELECT "outcome" = 'repeat' FROM "pipedrive_notifications"
      WHERE "tenant_id" = NEW."tenant_id" AND "event" <> 'recovered' ORDER BY "id" DESC LIMIT 1) IS TRUE;
  END IF;
  IF repeat THEN
    INSERT INTO "pipedrive_notifications" ("tenant_id", "event", "detail", "outcome", "done_at")
    VALUES (NEW."tenant_id", mail, NEW."detail", 'repeat', NEW."created_at");
  ELSE
    INSERT INTO "pipedrive_notifications" ("tenant_id", "event", "detail") VALUES (NEW."tenant_id", mail, NEW."detail");
  END IF;
  RETURN NEW;
END;
$$;
