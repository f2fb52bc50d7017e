import { z } from "zod";

// Every answer from Pipedrive is parsed here before the code looks at it.

export const tokenAnswer = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  token_type: z.string().refine((value) => value.toLowerCase() === "bearer", "token_type must be bearer"),
  // Seconds. A string or a fraction is refused rather than guessed at.
  expires_in: z
    .number()
    .int()
    .positive()
    .max(366 * 24 * 3600),
  scope: z.string().optional(),
  // Pipedrive documents refresh answers without it; the stored host then stays.
  api_domain: z.string().min(1).max(255).optional(),
});
export type TokenAnswer = z.infer<typeof tokenAnswer>;

/** OAuth's {error, error_description}, or Pipedrive's API {success: false, error: "<message>"}. */
export const oauthErrorAnswer = z.object({
  error: z.string(),
  error_description: z.string().nullish(),
  message: z.string().nullish(),
});

// Lenient where Pipedrive's own SDK models say a field may be missing or null; strict on ids.
/** Long text from Pipedrive (a 200,000-character company name) is kept and shown shortened. */
export function shorten(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

const text = z
  .string()
  .nullish()
  .transform((value) => value ?? "");
/** A name people read: kept shortened. */
const name = text.transform((value) => shorten(value, 200));

export const usersMeAnswer = z.object({
  success: z.literal(true),
  data: z.object({
    id: z.number().int(),
    name,
    email: text.transform((value) => (value.length <= 320 ? value : "")),
    company_id: z.number().int(),
    company_name: name,
    // A subdomain label; anything longer than a host name can be is no domain at all.
    company_domain: text.transform((value) => (value.length <= 253 ? value : "")),
  }),
});
export type PipedriveMe = z.infer<typeof usersMeAnswer>["data"];

const phoneOrEmail = z
  .union([z.string(), z.object({ value: z.string() }).transform((entry) => entry.value)])
  .transform((value) => shorten(value, 100));
const list = z
  .array(phoneOrEmail)
  .nullish()
  .transform((values) => (values ?? []).slice(0, 20));

/** GET /v1/personFields: only what tells a phone field; everything else about a field is ignored. */
export const personFieldsAnswer = z.object({
  success: z.literal(true),
  data: z
    .array(
      z
        .object({
          key: z.string().max(200),
          field_type: z.string().max(50),
          name: z
            .string()
            .nullish()
            .transform((name) => shorten(name ?? "", 100)),
        })
        .loose(),
    )
    .nullish()
    .transform((fields) => fields ?? []),
});

export const personSearchAnswer = z.object({
  success: z.literal(true),
  data: z
    .object({
      items: z
        .array(
          z.object({
            result_score: z.number().nullish(),
            item: z
              .object({
                id: z.number().int(),
                name,
                phones: list,
                emails: list,
                organization: z
                  .object({ id: z.number().int().nullish(), name: z.string().nullish() })
                  .nullish()
                  .transform((org) =>
                    org ? { id: org.id ?? null, name: org.name == null ? null : shorten(org.name, 200) } : null,
                  ),
                owner: z.object({ id: z.number().int() }).nullish(),
                // The values of the custom fields the term matched (with fields=custom_fields).
                custom_fields: z
                  .array(z.unknown())
                  .nullish()
                  .transform((values) =>
                    (values ?? [])
                      .filter((value): value is string => typeof value === "string")
                      .slice(0, 10)
                      .map((value) => shorten(value, 100)),
                  ),
              })
              .transform(({ owner, custom_fields, ...person }) => ({
                ...person,
                ownerId: owner?.id ?? null,
                ...(custom_fields.length > 0
                  ? { customPhones: custom_fields.map((phone) => ({ field: null as string | null, phone })) }
                  : {}),
              })),
          }),
        )
        .nullish()
        .transform((items) => items ?? []),
    })
    .nullish()
    .transform((data) => data ?? { items: [] }),
  additional_data: z.object({ next_cursor: z.string().nullish() }).nullish(),
});

export type Person = {
  id: number;
  name: string;
  phones: string[];
  emails: string[];
  organization: { id: number | null; name: string | null } | null;
  /** The Pipedrive user who owns the person, when the answer says. */
  ownerId?: number | null;
  /** Numbers found in the company's custom phone fields, with the field's name when known. */
  customPhones?: { field: string | null; phone: string }[];
};

/** A Pipedrive id: a positive integer, or one written in decimal digits. Never "0x1B59". */
const pipedriveId = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/)
    .transform(Number),
]);

export const uninstallNotice = z.object({
  client_id: z.string().min(1),
  company_id: pipedriveId,
  user_id: pipedriveId,
  timestamp: z.union([z.string(), z.number()]).optional(),
});
