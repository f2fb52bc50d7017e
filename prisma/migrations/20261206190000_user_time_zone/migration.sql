-- The zone the user's browser last named on the settings page: their mails give times in it beside UTC.
ALTER TABLE "users" ADD COLUMN "time_zone" VARCHAR(64);
