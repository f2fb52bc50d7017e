-- The session a connect flow was started in, so that the callback can recognise it without
-- decrypting the session token a second time: a keyed hash of the token that was verified when
-- the flow started (never the token itself), the session version it carried, and its expiry.
-- Flows started before this column existed have none, and take the full check.
ALTER TABLE "pipedrive_oauth_states"
    ADD COLUMN "session_key" CHAR(43),
    ADD COLUMN "session_version" INTEGER,
    ADD COLUMN "session_expires_at" TIMESTAMPTZ(6);
