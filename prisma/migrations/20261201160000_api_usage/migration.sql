-- What our calls cost each Pipedrive company per day, estimated from Pipedrive's documented
-- per-call token costs (lib/pipedrive/api-costs.ts): the company's daily budget is shared with
-- all its other integrations, and no answer says how much of it is left. Keyed by the company's
-- API host, as the rate-limit pauses are; the day is UTC.
CREATE TABLE "pipedrive_api_usage" (
    "api_host" VARCHAR(255) NOT NULL,
    "day" DATE NOT NULL,
    "lookups" INTEGER NOT NULL DEFAULT 0,
    "searches" INTEGER NOT NULL DEFAULT 0,
    "api_tokens" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "pipedrive_api_usage_pkey" PRIMARY KEY ("api_host", "day")
);

-- What we have learnt about a company's Pipedrive: whether its phone search ignores punctuation
-- (then one search per digit string is enough, and a miss costs far fewer searches).
CREATE TABLE "pipedrive_companies" (
    "api_host" VARCHAR(255) NOT NULL,
    "phone_match" VARCHAR(20) NOT NULL,
    "learned_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "pipedrive_companies_pkey" PRIMARY KEY ("api_host")
);
