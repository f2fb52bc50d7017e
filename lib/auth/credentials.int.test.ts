import { randomUUID } from "node:crypto";

import bcrypt from "bcryptjs";
import { beforeAll, describe, expect, it, vi } from "vitest";

import { db } from "../db.ts";
import { endSessions, findUserInTenant } from "../users/user-store.ts";
import { verifyCredentials } from "./credentials.ts";
import { hashPassword } from "./password.ts";

const suffix = randomUUID().slice(0, 8);
const people = {
  admin: { email: `Admin-${suffix}@Sign-In.test`, password: "correct horse battery", role: "admin" as const },
  member: { email: `member-${suffix}@sign-in.test`, password: "member password 1", role: "member" as const },
};
let tenantId: string;
let otherTenantId: string;

beforeAll(async () => {
  tenantId = (await db().tenant.create({ data: { name: "Sign-in tenant" } })).id;
  otherTenantId = (await db().tenant.create({ data: { name: "Other tenant" } })).id;
  for (const p of Object.values(people)) {
    await db().user.create({
      data: {
        tenantId,
        email: p.email.toLowerCase(),
        passwordHash: await hashPassword(p.password),
        role: p.role,
        name: p.role,
      },
    });
  }
});

describe("sign-in credentials", () => {
  it("accept the right password, with the email in any case, and carry tenant and role", async () => {
    const admin = await verifyCredentials({
      email: `  ${people.admin.email.toUpperCase()} `,
      password: people.admin.password,
    });
    expect(admin).toMatchObject({ tenantId, role: "admin", email: people.admin.email.toLowerCase() });
    const member = await verifyCredentials({ email: people.member.email, password: people.member.password });
    expect(member).toMatchObject({ tenantId, role: "member" });
  });

  it("refuse a wrong password, an unknown email and malformed input alike", async () => {
    expect(await verifyCredentials({ email: people.admin.email, password: "wrong" })).toBeNull();
    expect(
      await verifyCredentials({ email: `nobody-${suffix}@sign-in.test`, password: people.admin.password }),
    ).toBeNull();
    expect(await verifyCredentials({ email: "not an email", password: "x" })).toBeNull();
    expect(await verifyCredentials({ email: people.admin.email })).toBeNull();
    expect(await verifyCredentials(null)).toBeNull();
  });

  it("run a full hash comparison for an unknown email too, so timing does not reveal accounts", async () => {
    const compare = vi.spyOn(bcrypt, "compare");
    await verifyCredentials({ email: `ghost-${suffix}@sign-in.test`, password: "wrong password" });
    await verifyCredentials({ email: people.admin.email, password: "wrong password" });
    expect(compare).toHaveBeenCalledTimes(2);
    const [unknownHash, knownHash] = compare.mock.calls.map((call) => String(call[1]));
    expect(unknownHash).toMatch(/^\$2[aby]\$11\$/);
    expect(knownHash).toMatch(/^\$2[aby]\$11\$/);
    compare.mockRestore();
  });
});

describe("session user lookup", () => {
  it("finds a user only inside the tenant the session names", async () => {
    const admin = await verifyCredentials({ email: people.admin.email, password: people.admin.password });
    expect(await findUserInTenant(admin!.id, tenantId, 0)).toMatchObject({ id: admin!.id, role: "admin" });
    expect(await findUserInTenant(admin!.id, otherTenantId, 0)).toBeNull();
  });

  it("sees a role change at once", async () => {
    const member = await verifyCredentials({ email: people.member.email, password: people.member.password });
    await db().user.update({ where: { id: member!.id }, data: { role: "admin" } });
    expect((await findUserInTenant(member!.id, tenantId, 0))?.role).toBe("admin");
    await db().user.update({ where: { id: member!.id }, data: { role: "member" } });
  });
});

describe("sessions end on the server", () => {
  async function freshUser() {
    const email = `session-${randomUUID()}@sign-in.test`;
    await db().user.create({
      data: { tenantId, email, passwordHash: await hashPassword("first password"), role: "admin", name: "S" },
    });
    return (await verifyCredentials({ email, password: "first password" }))!;
  }

  it("when the user signs out: a session issued before stops working, a new sign-in works", async () => {
    const user = await freshUser();
    expect(await findUserInTenant(user.id, tenantId, user.sessionVersion)).not.toBeNull();
    await endSessions(user.id);
    expect(await findUserInTenant(user.id, tenantId, user.sessionVersion)).toBeNull();
    const again = await verifyCredentials({ email: user.email, password: "first password" });
    expect(await findUserInTenant(user.id, tenantId, again!.sessionVersion)).not.toBeNull();
  });

  it("when the password changes, however it is changed", async () => {
    const user = await freshUser();
    await db()
      .$executeRaw`UPDATE users SET password_hash = ${await hashPassword("second password")} WHERE id = ${user.id}::uuid`;
    expect(await findUserInTenant(user.id, tenantId, user.sessionVersion)).toBeNull();
    // Touching anything else keeps sessions.
    const current = await verifyCredentials({ email: user.email, password: "second password" });
    await db().user.update({ where: { id: user.id }, data: { name: "Renamed" } });
    expect(await findUserInTenant(user.id, tenantId, current!.sessionVersion)).toMatchObject({ name: "Renamed" });
  });

  it("when the user's access is removed", async () => {
    const user = await freshUser();
    await db().user.delete({ where: { id: user.id } });
    expect(await findUserInTenant(user.id, tenantId, user.sessionVersion)).toBeNull();
  });
});
