-- Sessions carry the version they were issued under; bumping it ends them all (sign-out,
-- password change). A trigger bumps it on every password change, whoever makes it.
ALTER TABLE "users" ADD COLUMN "session_version" INTEGER NOT NULL DEFAULT 0;

CREATE FUNCTION "users_end_sessions_on_password_change"() RETURNS trigger AS $$
BEGIN
  IF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
    NEW.session_version := OLD.session_version + 1;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "users_end_sessions_on_password_change" BEFORE UPDATE OF "password_hash" ON "users"
  FOR EACH ROW EXECUTE FUNCTION "users_end_sessions_on_password_change"();

-- PKCE (when enabled): the verifier of a connect flow, server-side only.
ALTER TABLE "pipedrive_oauth_states" ADD COLUMN "pkce_verifier" VARCHAR(128);

-- Whatever Pipedrive sends for names and domains fits.
ALTER TABLE "pipedrive_connections" ALTER COLUMN "company_name" TYPE TEXT;
ALTER TABLE "pipedrive_connections" ALTER COLUMN "company_domain" TYPE TEXT;
ALTER TABLE "pipedrive_connections" ALTER COLUMN "pipedrive_user_name" TYPE TEXT;

-- rate-limiter-flexible's Postgres store (sign-in attempts, lookups), shared by every instance.
CREATE TABLE "rate_limits" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- A phone lookup's result, shown once to the admin who ran it, so the number never rides in a URL.
CREATE TABLE "pipedrive_lookups" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "phone" VARCHAR(60) NOT NULL,
    "result" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipedrive_lookups_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "pipedrive_lookups_created_at_idx" ON "pipedrive_lookups"("created_at");
ALTER TABLE "pipedrive_lookups" ADD CONSTRAINT "pipedrive_lookups_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
