-- A 402 or 403 is judged by the call that got it: Pipedrive's 403 also means "the user account
-- has reached a limit for an entity", so a search refused while users/me works is not healed by
-- users/me working. The keeper's hourly look repeats the refused kind of call.
ALTER TABLE "pipedrive_connections" ADD COLUMN "refused_call" VARCHAR(40);

-- A mail says who and what (the audit event's detail: the Pipedrive user, the refused call).
ALTER TABLE "pipedrive_notifications" ADD COLUMN "detail" JSONB NOT NULL DEFAULT '{}';

-- One mail per incident, not per flap: a 402 or 403 that comes back within a day of the mail
-- about it is recorded as a repeat (done, never sent), and the recovery that ends a repeat is
-- quiet too, so the admins' last mail still tells the truth.
CREATE OR REPLACE FUNCTION "pipedrive_notify_on_audit"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  repeat BOOLEAN := false;
BEGIN
  IF NEW."event" NOT IN ('refresh_failed', 'recovered', 'uninstalled', 'needs_permissions', 'subscription_lapsed', 'access_forbidden') THEN
    RETURN NEW;
  END IF;
  IF NEW."event" IN ('subscription_lapsed', 'access_forbidden') THEN
    repeat := EXISTS (
      SELECT 1 FROM "pipedrive_notifications"
      WHERE "tenant_id" = NEW."tenant_id" AND "event" = NEW."event" AND "outcome" IS DISTINCT FROM 'repeat'
        AND "created_at" > NEW."created_at" - interval '1 day');
  ELSIF NEW."event" = 'recovered' THEN
    repeat := (
      SELECT "outcome" = 'repeat' FROM "pipedrive_notifications"
      WHERE "tenant_id" = NEW."tenant_id" AND "event" <> 'recovered' ORDER BY "id" DESC LIMIT 1) IS TRUE;
  END IF;
  IF repeat THEN
    INSERT INTO "pipedrive_notifications" ("tenant_id", "event", "detail", "outcome", "done_at")
    VALUES (NEW."tenant_id", NEW."event", NEW."detail", 'repeat', NEW."created_at");
  ELSE
    INSERT INTO "pipedrive_notifications" ("tenant_id", "event", "detail") VALUES (NEW."tenant_id", NEW."event", NEW."detail");
  END IF;
  RETURN NEW;
END;
$$;
