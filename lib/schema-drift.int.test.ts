import { readFileSync } from "node:fs";
import path from "node:path";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

// The migrated database must be what schema.prisma says. The datamodel comes from Prisma's
// own parser (prisma/dmmf-generator.mjs writes it during `prisma generate`).

type Field = {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object";
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
};
type Model = { name: string; dbName: string | null; fields: Field[] };
type Datamodel = {
  models: Model[];
  enums: { name: string; dbName: string | null; values: { name: string }[] }[];
  indexes: { model: string; type: "id" | "unique" | "normal" | "fulltext"; fields: { name: string }[] }[];
};

const datamodel = JSON.parse(
  readFileSync(path.join(import.meta.dirname, "generated", "datamodel.json"), "utf8"),
) as Datamodel;
const tableOf = (model: Model) => model.dbName ?? model.name;
const modelByName = new Map(datamodel.models.map((m) => [m.name, m]));
const column = (model: Model, fieldName: string) => {
  const field = model.fields.find((f) => f.name === fieldName);
  return field?.dbName ?? fieldName;
};
const enumDbName = (name: string) => {
  const e = datamodel.enums.find((x) => x.name === name);
  return e?.dbName ?? name;
};

function expectedType(field: Field): string {
  const [native, args] = field.nativeType ?? [null, []];
  const byNative: Record<string, string> = {
    Uuid: "uuid",
    Text: "text",
    VarChar: `character varying(${args[0]})`,
    Char: `character(${args[0]})`,
    Timestamptz: `timestamp(${args[0] ?? 6}) with time zone`,
    Timestamp: `timestamp(${args[0] ?? 6}) without time zone`,
    Date: "date",
  };
  const byType: Record<string, string> = {
    String: "text",
    Int: "integer",
    BigInt: "bigint",
    Boolean: "boolean",
    Float: "double precision",
    Json: "jsonb",
    DateTime: "timestamp(3) without time zone",
  };
  const base = field.kind === "enum" ? enumDbName(field.type) : native ? byNative[native] : byType[field.type];
  if (!base) throw new Error(`no mapping for ${field.name}: ${field.type} ${native ?? ""}`);
  return field.isList ? `${base}[]` : base;
}

const onDeleteCodes: Record<string, string> = {
  c: "Cascade",
  r: "Restrict",
  a: "NoAction",
  n: "SetNull",
  d: "SetDefault",
};

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: inject("databaseUrl") });
  await client.connect();
});
afterAll(() => client.end());

async function rows<T extends pg.QueryResultRow>(sql: string) {
  return (await client.query<T>(sql)).rows;
}

describe("migrated database matches schema.prisma", () => {
  it("has the same tables and columns, with the same types and nullability", async () => {
    const expected = datamodel.models
      .flatMap((model) =>
        model.fields
          .filter((f) => f.kind !== "object")
          .map(
            (f) =>
              `${tableOf(model)}.${f.dbName ?? f.name}: ${expectedType(f)} ${f.isRequired && !f.isList ? "NOT NULL" : "NULL"}`,
          ),
      )
      .sort();
    const actual = (
      await rows<{ t: string; c: string; type: string; not_null: boolean }>(`
        SELECT cl.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
        FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = 'public' AND cl.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND cl.relname <> '_prisma_migrations'`)
    )
      .map((r) => `${r.t}.${r.c}: ${r.type} ${r.not_null ? "NOT NULL" : "NULL"}`)
      .sort();
    expect(actual).toEqual(expected);
  });

  it("has the same primary keys, unique constraints and indexes", async () => {
    const kinds = { id: "primary", unique: "unique", normal: "index", fulltext: "fulltext" } as const;
    const expected = datamodel.indexes
      .map((index) => {
        const model = modelByName.get(index.model)!;
        return `${tableOf(model)} ${kinds[index.type]}(${index.fields.map((f) => column(model, f.name)).join(",")})`;
      })
      .sort();
    const actual = (
      await rows<{ t: string; primary: boolean; is_unique: boolean; cols: string[] }>(`
        SELECT t.relname AS t, i.indisprimary AS primary, i.indisunique AS is_unique,
               array_agg(a.attname::text ORDER BY k.ord) AS cols
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'
        GROUP BY t.relname, i.indexrelid, i.indisprimary, i.indisunique`)
    )
      .map((r) => `${r.t} ${r.primary ? "primary" : r.is_unique ? "unique" : "index"}(${r.cols.join(",")})`)
      .sort();
    expect(actual).toEqual(expected);
  });

  it("has the same foreign keys and delete rules", async () => {
    const expected = datamodel.models
      .flatMap((model) =>
        model.fields
          .filter((f) => f.kind === "object" && f.relationFromFields?.length)
          .map((f) => {
            const target = modelByName.get(f.type)!;
            const onDelete = f.relationOnDelete ?? (f.isRequired ? "Restrict" : "SetNull");
            return `${tableOf(model)}(${f.relationFromFields!.map((n) => column(model, n)).join(",")}) -> ${tableOf(target)}(${f.relationToFields!.map((n) => column(target, n)).join(",")}) on delete ${onDelete}`;
          }),
      )
      .sort();
    const actual = (
      await rows<{ t: string; cols: string[]; ref: string; refcols: string[]; del: string }>(`
        SELECT c.conrelid::regclass::text AS t, c.confrelid::regclass::text AS ref, c.confdeltype AS del,
          (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols,
          (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS refcols
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = 'public'`)
    )
      .map(
        (r) =>
          `${r.t.replace(/"/g, "")}(${r.cols.join(",")}) -> ${r.ref.replace(/"/g, "")}(${r.refcols.join(",")}) on delete ${onDeleteCodes[r.del]}`,
      )
      .sort();
    expect(actual).toEqual(expected);
  });

  it("has the same enums and values", async () => {
    const expected = datamodel.enums
      .map((e) => `${e.dbName ?? e.name}: ${e.values.map((v) => v.name).join(",")}`)
      .sort();
    const actual = (
      await rows<{ name: string; vals: string[] }>(`
        SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS vals
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE n.nspname = 'public' GROUP BY t.typname`)
    )
      .map((r) => `${r.name}: ${r.vals.join(",")}`)
      .sort();
    expect(actual).toEqual(expected);
  });
});

describe("the shared contract table", () => {
  it("is exactly lead_pipedrive_integrations(tenant_id uuid PK, access_token text, refresh_token text, expires_at timestamptz, api_domain varchar(255)), all NOT NULL", async () => {
    const columns = await rows<{
      column_name: string;
      data_type: string;
      char_len: number | null;
      is_nullable: string;
    }>(`
      SELECT column_name, data_type, character_maximum_length AS char_len, is_nullable
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'lead_pipedrive_integrations' ORDER BY ordinal_position`);
    expect(columns).toEqual([
      { column_name: "tenant_id", data_type: "uuid", char_len: null, is_nullable: "NO" },
      { column_name: "access_token", data_type: "text", char_len: null, is_nullable: "NO" },
      { column_name: "refresh_token", data_type: "text", char_len: null, is_nullable: "NO" },
      { column_name: "expires_at", data_type: "timestamp with time zone", char_len: null, is_nullable: "NO" },
      { column_name: "api_domain", data_type: "character varying", char_len: 255, is_nullable: "NO" },
    ]);
    const pk = await rows<{ cols: string[] }>(`
      SELECT array_agg(a.attname::text) AS cols FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = 'lead_pipedrive_integrations'::regclass AND i.indisprimary`);
    expect(pk[0]?.cols).toEqual(["tenant_id"]);
  });
});
