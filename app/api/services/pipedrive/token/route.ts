// A fresh Pipedrive token for a service (Authorization: Bearer <key> from SERVICE_API_KEYS).
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { tokenForService } from "@/lib/services/pipedrive-token.ts";
import { serviceRoute } from "@/lib/services/service-call.ts";

export const dynamic = "force-dynamic";

export const GET = serviceRoute("service-token", (request) =>
  tokenForService(pipedrive(), new URL(request.url).searchParams.get("tenant_id")),
);
