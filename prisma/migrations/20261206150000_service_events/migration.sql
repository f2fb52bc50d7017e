-- Connection events for services (Standard Webhooks), written in the move's own transaction by
-- the connection's executor and delivered in order per workspace by the keeper.
CREATE TABLE "pipedrive_service_events" (
  "id" BIGSERIAL PRIMARY KEY,
  "webhook_id" VARCHAR(60) NOT NULL UNIQUE,
  "tenant_id" UUID NOT NULL REFERENCES "tenants"("id") ON DELETE CASCADE,
  "type" VARCHAR(60) NOT NULL,
  "payload" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "last_status" INTEGER,
  "last_error" VARCHAR(300),
  "delivered_at" TIMESTAMPTZ(6),
  "dead_at" TIMESTAMPTZ(6)
);
CREATE INDEX "pipedrive_service_events_pending_idx" ON "pipedrive_service_events" ("tenant_id", "id")
  WHERE "delivered_at" IS NULL AND "dead_at" IS NULL;
