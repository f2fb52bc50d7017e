import "server-only";

import { z } from "zod";

import { AppError } from "../errors.ts";
import { readCapped } from "../http/body.ts";
import type { PipedriveContext } from "../pipedrive/context.ts";
import { lookupForService } from "../pipedrive/lookup/lookup.ts";
import type { ServiceAnswer } from "./service-call.ts";

// A service's phone lookup: the enrich CLI's own (lookupForService), answered as JSON. Pipedrive's
// v1 search is out of support since 2026-08-01; this uses v2, custom phone fields and the budget.

const lookupRequest = z.object({ tenant_id: z.uuid(), phone: z.string().min(1).max(60) });

export async function lookupRequestedBy(ctx: PipedriveContext, request: Request): Promise<ServiceAnswer> {
  const body = await readCapped(request, 2048);
  if (body === null) throw new AppError("too_large");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new AppError("bad_request", "the body is not JSON");
  }
  const asked = lookupRequest.safeParse(json);
  if (!asked.success) throw new AppError("invalid_input", "expected { tenant_id, phone }");
  const people = await lookupForService(ctx, asked.data.tenant_id, asked.data.phone, { bound: true });
  return { status: 200, body: { people } };
}
