-- What other services (the lead-enrichment service first) may read about each connected
-- workspace, without touching the contract table: lead_pipedrive_integration_status. Read-only
-- by construction (a view over our tables); grant SELECT on it and nothing else.

-- When the connection's status last changed, kept by the database so no writer can forget it.
ALTER TABLE "pipedrive_connections" ADD COLUMN "status_since" TIMESTAMPTZ(6);
UPDATE "pipedrive_connections" SET "status_since" = COALESCE("last_error_at", "connected_at");
ALTER TABLE "pipedrive_connections" ALTER COLUMN "status_since" SET NOT NULL;
ALTER TABLE "pipedrive_connections" ALTER COLUMN "status_since" SET DEFAULT CURRENT_TIMESTAMP;

-- A refresh token Pipedrive refused, not yet confirmed dead: admins are told only once the row
-- still holds it after the grace period (another writer's rotation may be about to land).
ALTER TABLE "pipedrive_connections" ADD COLUMN "suspected_at" TIMESTAMPTZ(6);

CREATE FUNCTION "pipedrive_connections_status_since"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."status" IS DISTINCT FROM OLD."status" THEN
    NEW."status_since" := now();
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "pipedrive_connections_status_since"
  BEFORE UPDATE ON "pipedrive_connections"
  FOR EACH ROW EXECUTE FUNCTION "pipedrive_connections_status_since"();

-- One row per connected workspace, with the worst condition that is active now.
CREATE VIEW "lead_pipedrive_integration_status" AS
SELECT
  c."tenant_id",
  CASE
    WHEN c."status" <> 'connected' THEN c."status"::text
    WHEN alert."kind" IS NOT NULL THEN 'unavailable'
    WHEN pause."blocked_until" > now() THEN 'paused'
    ELSE 'connected'
  END AS "status",
  CASE
    WHEN c."status" = 'needs_reconnect' THEN 'Pipedrive no longer accepts this workspace''s access; an admin must reconnect.'
    WHEN c."status" = 'needs_permissions' THEN 'The Pipedrive grant lacks a permission lookups need; an admin must reconnect and allow it.'
    WHEN c."status" = 'subscription_lapsed' THEN 'The company''s Pipedrive subscription is not active; calls resume when it is.'
    WHEN c."status" = 'access_forbidden' THEN 'Pipedrive refuses the connected user access to contacts; calls resume when a Pipedrive admin allows it.'
    WHEN alert."kind" IS NOT NULL THEN 'Pipedrive rejects the CRM''s app credentials; the CRM''s operators must fix them.'
    WHEN pause."blocked_until" > now() THEN 'Pipedrive''s request limit for this company is used up until retry_at.'
    ELSE 'Connected.'
  END AS "reason",
  CASE
    WHEN c."status" = 'connected' AND alert."kind" IS NOT NULL THEN alert."first_seen_at"
    WHEN c."status" = 'connected' AND pause."blocked_until" > now() THEN pause."updated_at"
    ELSE c."status_since"
  END AS "since",
  CASE
    WHEN c."status" IN ('subscription_lapsed', 'access_forbidden') THEN c."next_refresh_at"
    WHEN c."status" = 'connected' AND alert."kind" IS NULL AND pause."blocked_until" > now() THEN pause."blocked_until"
    ELSE NULL
  END AS "retry_at",
  c."next_refresh_at"
FROM "pipedrive_connections" c
LEFT JOIN "lead_pipedrive_integrations" t ON t."tenant_id" = c."tenant_id"
LEFT JOIN "pipedrive_rate_limits" pause ON pause."api_host" = t."api_domain"
LEFT JOIN "operator_alerts" alert
  ON alert."kind" = 'pipedrive_app_credentials_rejected' AND alert."cleared_at" IS NULL;
