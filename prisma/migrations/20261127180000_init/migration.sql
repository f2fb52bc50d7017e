-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('admin', 'member');

-- CreateEnum
CREATE TYPE "pipedrive_connection_status" AS ENUM ('connected', 'needs_reconnect');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "email" VARCHAR(320) NOT NULL,
    "password_hash" VARCHAR(255) NOT NULL,
    "role" "user_role" NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
-- Shared contract with the lead-enrichment service: do not alter.
CREATE TABLE "lead_pipedrive_integrations" (
    "tenant_id" UUID NOT NULL,
    "access_token" TEXT NOT NULL,
    "refresh_token" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "api_domain" VARCHAR(255) NOT NULL,

    CONSTRAINT "lead_pipedrive_integrations_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateTable
CREATE TABLE "pipedrive_connections" (
    "tenant_id" UUID NOT NULL,
    "status" "pipedrive_connection_status" NOT NULL,
    "company_id" INTEGER NOT NULL,
    "company_name" VARCHAR(255) NOT NULL,
    "company_domain" VARCHAR(255) NOT NULL,
    "pipedrive_user_id" INTEGER NOT NULL,
    "pipedrive_user_name" VARCHAR(255) NOT NULL,
    "scopes" TEXT[],
    "connected_by_user_id" UUID,
    "connected_by_name" VARCHAR(200) NOT NULL,
    "connected_at" TIMESTAMPTZ(6) NOT NULL,
    "last_error" VARCHAR(500),
    "last_error_at" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipedrive_connections_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateTable
CREATE TABLE "pipedrive_oauth_states" (
    "nonce_hash" CHAR(64) NOT NULL,
    "tenant_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "consumed_at" TIMESTAMPTZ(6),

    CONSTRAINT "pipedrive_oauth_states_pkey" PRIMARY KEY ("nonce_hash")
);

-- CreateTable
CREATE TABLE "pipedrive_audit_events" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "actor_user_id" UUID,
    "event" VARCHAR(40) NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipedrive_audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "users_tenant_id_idx" ON "users"("tenant_id");

-- CreateIndex
CREATE INDEX "pipedrive_connections_company_id_idx" ON "pipedrive_connections"("company_id");

-- CreateIndex
CREATE INDEX "pipedrive_oauth_states_expires_at_idx" ON "pipedrive_oauth_states"("expires_at");

-- CreateIndex
CREATE INDEX "pipedrive_audit_events_tenant_id_created_at_idx" ON "pipedrive_audit_events"("tenant_id", "created_at");

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipedrive_connections" ADD CONSTRAINT "pipedrive_connections_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipedrive_oauth_states" ADD CONSTRAINT "pipedrive_oauth_states_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipedrive_audit_events" ADD CONSTRAINT "pipedrive_audit_events_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
