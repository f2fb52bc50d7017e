-- Pipedrive's install model: a connection can also wait for new permissions, a lapsed
-- subscription (402) or a missing user permission (403); each pauses lookups until it heals.
ALTER TYPE "pipedrive_connection_status" ADD VALUE 'needs_permissions';
ALTER TYPE "pipedrive_connection_status" ADD VALUE 'subscription_lapsed';
ALTER TYPE "pipedrive_connection_status" ADD VALUE 'access_forbidden';

-- An install is one Pipedrive user's in one company: find the workspaces that hold one.
DROP INDEX "pipedrive_connections_company_id_idx";
CREATE INDEX "pipedrive_connections_company_id_pipedrive_user_id_idx" ON "pipedrive_connections"("company_id", "pipedrive_user_id");
