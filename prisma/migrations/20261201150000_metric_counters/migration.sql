-- Event counts for /api/metrics, shared by every process that makes them (app instances and
-- keepers, which have no port of their own to scrape): one row per metric and label value.
CREATE TABLE "metric_counters" (
    "metric" VARCHAR(80) NOT NULL,
    "label" VARCHAR(80) NOT NULL,
    "value" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "metric_counters_pkey" PRIMARY KEY ("metric", "label")
);
