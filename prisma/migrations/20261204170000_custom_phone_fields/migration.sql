-- Whether a company keeps phone numbers in custom phone fields, which Pipedrive's person search
-- finds only with fields=custom_fields: asked once (GET /v1/personFields) and remembered for a day.
ALTER TABLE "pipedrive_companies" ADD COLUMN "custom_phone_fields" BOOLEAN;
ALTER TABLE "pipedrive_companies" ADD COLUMN "fields_checked_at" TIMESTAMPTZ(6);
