// A service's phone lookup: POST { tenant_id, phone } with its key, answered as JSON.
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { lookupRequestedBy } from "@/lib/services/pipedrive-lookup.ts";
import { serviceRoute } from "@/lib/services/service-call.ts";

export const dynamic = "force-dynamic";

export const POST = serviceRoute("service-lookup", (request) => lookupRequestedBy(pipedrive(), request));
