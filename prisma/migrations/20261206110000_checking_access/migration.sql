-- While Pipedrive's refusal of a renewal is being checked (before the verdict), the view says
-- checking_access, as the settings card and every caller do, with the verdict's time in
-- retry_at: it said connected while callers were told to wait. Same order as CONDITIONS.
CREATE OR REPLACE VIEW "lead_pipedrive_integration_status" AS
SELECT
  c."tenant_id",
  CASE
    WHEN alert."kind" IS NOT NULL THEN 'unavailable'
    WHEN c."status" = 'needs_reconnect' THEN 'needs_reconnect'
    WHEN h."host" IS NULL THEN 'host_unrecognised'
    WHEN c."suspected_at" IS NOT NULL THEN 'checking_access'
    WHEN c."status" <> 'connected' THEN c."status"::text
    WHEN pause."blocked_until" > now() THEN 'paused'
    ELSE 'connected'
  END AS "status",
  CASE
    WHEN alert."kind" IS NOT NULL THEN 'Pipedrive rejects the CRM''s app credentials; the CRM''s operators must fix them.'
    WHEN c."status" = 'needs_reconnect' THEN 'Pipedrive no longer accepts this workspace''s access; an admin must reconnect.'
    WHEN h."host" IS NULL THEN 'The stored Pipedrive address is not a Pipedrive host, so no call is made; an admin must reconnect.'
    WHEN c."suspected_at" IS NOT NULL THEN 'Pipedrive refused a renewal; the CRM is checking whether the access is gone. Wait until retry_at.'
    WHEN c."status" = 'needs_permissions' THEN 'The Pipedrive grant lacks a permission lookups need; an admin must reconnect and allow it.'
    WHEN c."status" = 'subscription_lapsed' THEN 'The company''s Pipedrive subscription is not active; calls resume when it is.'
    WHEN c."status" = 'access_forbidden' THEN 'Pipedrive refuses the connected user access to contacts; calls resume when a Pipedrive admin allows it.'
    WHEN pause."blocked_until" > now() THEN 'Pipedrive''s request limit for this company is used up until retry_at.'
    ELSE 'Connected.'
  END AS "reason",
  CASE
    WHEN alert."kind" IS NOT NULL THEN alert."first_seen_at"
    WHEN c."status" <> 'needs_reconnect' AND h."host" IS NOT NULL AND c."suspected_at" IS NOT NULL THEN c."suspected_at"
    WHEN c."status" = 'connected' AND h."host" IS NOT NULL AND pause."blocked_until" > now() THEN pause."updated_at"
    ELSE c."status_since"
  END AS "since",
  CASE
    WHEN alert."kind" IS NOT NULL OR h."host" IS NULL OR c."status" = 'needs_reconnect' THEN NULL
    WHEN c."suspected_at" IS NOT NULL THEN c."next_refresh_at"
    WHEN c."status" IN ('subscription_lapsed', 'access_forbidden') THEN c."next_refresh_at"
    WHEN c."status" = 'connected' AND pause."blocked_until" > now() THEN pause."blocked_until"
    ELSE NULL
  END AS "retry_at",
  c."next_refresh_at"
FROM "pipedrive_connections" c
LEFT JOIN "lead_pipedrive_integrations" t ON t."tenant_id" = c."tenant_id"
LEFT JOIN LATERAL (SELECT "pipedrive_allowed_api_host"(t."api_domain") AS "host") h ON true
LEFT JOIN "pipedrive_rate_limits" pause ON pause."api_host" = h."host"
LEFT JOIN "operator_alerts" alert
  ON alert."kind" = 'pipedrive_app_credentials_rejected' AND alert."cleared_at" IS NULL;
