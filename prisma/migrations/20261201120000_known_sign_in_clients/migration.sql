-- Addresses an account has signed in from. Failures from anywhere else (an attacker's rotating
-- addresses) then cannot keep the account's user out from here: these clients are judged on
-- their own limit. Keyed by the normalised email, as the sign-in limits are; the keeper purges
-- entries not used for 90 days.
CREATE TABLE "known_sign_in_addresses" (
    "account" VARCHAR(320) NOT NULL,
    "address" VARCHAR(64) NOT NULL,
    "last_success_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "known_sign_in_addresses_pkey" PRIMARY KEY ("account", "address")
);
