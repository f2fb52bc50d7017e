import { z } from "zod";

// Every answer from Pipedrive is parsed here before the code looks at it.

export const tokenAnswer = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  token_type: z.string().refine((value) => value.toLowerCase() === "bearer", "token_type must be bearer"),
  // Seconds. A string or a fraction is refused rather than guessed at.
  expires_in: z.number().int().positive().max(366 * 24 * 3600),
  scope: z.string().optional(),
  // Pipedrive documents refresh answers without it; the stored host then stays.
  api_domain: z.string().min(1).max(255).optional(),
});
export type TokenAnswer = z.infer<typeof tokenAnswer>;

export const oauthErrorAnswer = z.object({ error: z.string(), error_description: z.string().optional() });

export const usersMeAnswer = z.object({
  success: z.literal(true),
  data: z.object({
    id: z.number().int(),
    name: z.string(),
    company_id: z.number().int(),
    company_name: z.string(),
    company_domain: z.string(),
  }),
});
export type PipedriveMe = z.infer<typeof usersMeAnswer>["data"];

const phoneOrEmail = z.union([
  z.string(),
  z.object({ value: z.string() }).transform((entry) => entry.value),
]);

export const personSearchAnswer = z.object({
  success: z.literal(true),
  data: z.object({
    items: z.array(
      z.object({
        result_score: z.number().optional(),
        item: z.object({
          id: z.number().int(),
          name: z.string().nullable().transform((name) => name ?? ""),
          phones: z.array(phoneOrEmail).nullish().transform((list) => list ?? []),
          emails: z.array(phoneOrEmail).nullish().transform((list) => list ?? []),
          organization: z.object({ id: z.number().int(), name: z.string().nullable() }).nullish().transform((org) => org ?? null),
        }),
      }),
    ),
  }),
  additional_data: z.object({ next_cursor: z.string().nullish() }).nullish(),
});

export type Person = {
  id: number;
  name: string;
  phones: string[];
  emails: string[];
  organization: { id: number; name: string | null } | null;
};

export const uninstallNotice = z.object({
  client_id: z.string().min(1),
  company_id: z.coerce.number().int().positive(),
  user_id: z.coerce.number().int().positive(),
  timestamp: z.union([z.string(), z.number()]).optional(),
});
