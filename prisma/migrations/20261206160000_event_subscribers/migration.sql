-- Several subscribers to connection events, each with its own delivery of every event: one
-- subscriber down never holds another back, and each keeps its own order per workspace.
CREATE TABLE "pipedrive_event_subscribers" (
  -- Owed each event made while it is named here: one named later is not sent the past.
  "name" VARCHAR(40) PRIMARY KEY,
  "added_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  -- The first failure of its current run of failures; the operators hear of it after an hour.
  "failing_since" TIMESTAMPTZ(6),
  "operators_told_at" TIMESTAMPTZ(6)
);

CREATE TABLE "pipedrive_event_deliveries" (
  "subscriber" VARCHAR(40) NOT NULL REFERENCES "pipedrive_event_subscribers"("name") ON DELETE CASCADE,
  "event_id" BIGINT NOT NULL REFERENCES "pipedrive_service_events"("id") ON DELETE CASCADE,
  "tenant_id" UUID NOT NULL,
  -- When it was owed: the event's making, or an operator's redelivery; retries stop a day later.
  "owed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "last_status" INTEGER,
  "last_error" VARCHAR(300),
  "delivered_at" TIMESTAMPTZ(6),
  "dead_at" TIMESTAMPTZ(6),
  PRIMARY KEY ("subscriber", "event_id")
);
CREATE INDEX "pipedrive_event_deliveries_pending_idx" ON "pipedrive_event_deliveries" ("subscriber", "tenant_id", "event_id")
  WHERE "delivered_at" IS NULL AND "dead_at" IS NULL;
CREATE INDEX "pipedrive_event_deliveries_event_idx" ON "pipedrive_event_deliveries" ("event_id");

-- What one subscriber (EVENT_WEBHOOK_URL, now named "default") was owed carries over as it stood.
INSERT INTO "pipedrive_event_subscribers" ("name")
  SELECT 'default' WHERE EXISTS (SELECT 1 FROM "pipedrive_service_events");
INSERT INTO "pipedrive_event_deliveries"
  ("subscriber", "event_id", "tenant_id", "owed_at", "attempts", "next_attempt_at", "last_status", "last_error", "delivered_at", "dead_at")
  SELECT 'default', "id", "tenant_id", "created_at", "attempts", "next_attempt_at", "last_status", "last_error", "delivered_at", "dead_at"
  FROM "pipedrive_service_events";

DROP INDEX "pipedrive_service_events_pending_idx";
ALTER TABLE "pipedrive_service_events"
  DROP COLUMN "attempts",
  DROP COLUMN "next_attempt_at",
  DROP COLUMN "last_status",
  DROP COLUMN "last_error",
  DROP COLUMN "delivered_at",
  DROP COLUMN "dead_at";
CREATE INDEX "pipedrive_service_events_created_idx" ON "pipedrive_service_events" ("created_at");
