-- The status view's allowance for a local mock Pipedrive lives in a table that only the
-- migration owner can write, holding exact hosts (host:port), not in a session setting that any
-- role could set for itself (SET crm.pipedrive_mock_hosts, or PGOPTIONS). A deployment's table
-- is empty; the demo launcher and the test suites add the one mock host they run.
CREATE TABLE "pipedrive_mock_hosts" (
  "host" VARCHAR(255) NOT NULL,
  CONSTRAINT "pipedrive_mock_hosts_pkey" PRIMARY KEY ("host"),
  CONSTRAINT "pipedrive_mock_hosts_loopback" CHECK ("host" ~ '^(localhost|127\.0\.0\.1|\[::1\]):[0-9]{1,5}$')
);
REVOKE ALL ON "pipedrive_mock_hosts" FROM PUBLIC;

-- The bare, lower-case host of a stored api_domain when it is one tokens may be sent to, as
-- lib/pipedrive/client/api-domain.ts allowedApiHost decides; NULL otherwise. It runs as its
-- owner, so a reader of the view (the lead_enrichment role) needs no grant on the table above.
CREATE OR REPLACE FUNCTION "pipedrive_allowed_api_host"(stored text) RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT CASE
    WHEN lower(stored) ~ '^(https://)?(?!-)[a-z0-9-]{1,63}\.pipedrive\.com(:443)?/?$'
      THEN regexp_replace(lower(stored), '^https://|(:443)?/?$', '', 'g')
    WHEN lower(stored) ~ '^(https?://)?(localhost|127\.0\.0\.1|\[::1\]):[0-9]{1,5}/?$'
      AND EXISTS (SELECT 1 FROM "pipedrive_mock_hosts" m
                   WHERE m."host" = regexp_replace(lower(stored), '^https?://|/$', '', 'g'))
      THEN regexp_replace(lower(stored), '^https?://|/$', '', 'g')
    ELSE NULL
  END
$$;
