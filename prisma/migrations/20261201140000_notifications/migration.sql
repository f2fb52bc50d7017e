-- Mail to a workspace's admins when its connection breaks, recovers, is uninstalled, or waits
-- on Pipedrive. An outbox: a row is written by the same transaction as the audit event of the
-- state change (a trigger, so no writer can forget it), and the keeper delivers it afterwards.
-- A state change is never lost or doubled because of mail; a failed send is retried.
CREATE TABLE "pipedrive_notifications" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "event" VARCHAR(40) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" VARCHAR(300),
    -- sent, no_recipients, or expired (not sent within a day: no SMTP_URL, or refused)
    "outcome" VARCHAR(20),
    "done_at" TIMESTAMPTZ(6),

    CONSTRAINT "pipedrive_notifications_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "pipedrive_notifications_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE FUNCTION "pipedrive_notify_on_audit"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."event" IN ('refresh_failed', 'recovered', 'uninstalled', 'needs_permissions', 'subscription_lapsed', 'access_forbidden') THEN
    INSERT INTO "pipedrive_notifications" ("tenant_id", "event") VALUES (NEW."tenant_id", NEW."event");
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "pipedrive_notify_on_audit"
  AFTER INSERT ON "pipedrive_audit_events"
  FOR EACH ROW EXECUTE FUNCTION "pipedrive_notify_on_audit"();

-- Each admin may turn these mails off for themselves.
ALTER TABLE "users" ADD COLUMN "pipedrive_mail" BOOLEAN NOT NULL DEFAULT true;
