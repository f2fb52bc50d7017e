-- Problems that are the operators' to fix, not a tenant's: e.g. Pipedrive rejecting this app's
-- client credentials. Raised and cleared by what the app sees; shown to admins and in readiness.
CREATE TABLE "operator_alerts" (
    "kind" VARCHAR(60) NOT NULL,
    "message" TEXT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL,
    "cleared_at" TIMESTAMPTZ(6),

    CONSTRAINT "operator_alerts_pkey" PRIMARY KEY ("kind")
);
