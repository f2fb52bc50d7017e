import type { Page } from "@playwright/test";

import { allOutcomes, outcomePath } from "../lib/settings-outcomes.ts";
import { expectNoViolations } from "./support/a11y.ts";
import { testDb } from "./support/db.ts";
import { DEMO_TENANT_ID } from "./support/env.ts";
import { expect, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// The settings page as an admin meets it on a phone: nothing may run off the right edge.

const SIZES = [
  { width: 390, height: 844 },
  { width: 320, height: 640 },
];

const LONG = {
  companyName: "Companhia Brasileira de Distribuição e Comércio Internacional de Equipamentos Industriais Ltda",
  companyDomain: "companhia-brasileira-de-distribuicao-e-comercio-internacional",
  pipedriveUserName: "Maria-Eduarda Albuquerque-Cavalcanti de Souza-Vasconcelos",
  connectedByName: "Dana Admin-Administradora-da-Conta-Principal-do-Espaço",
  email: "maria.eduarda.albuquerque.cavalcanti@companhia-brasileira-de-distribuicao.example",
  phone: "+55 (11) 3333-4444 ramal 1234567",
};

async function expectFits(page: Page, what: string) {
  const { documentWidth, viewportWidth } = await page.evaluate(() => ({
    documentWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth,
  }));
  expect(
    documentWidth,
    `${what}: document ${documentWidth} px wide on a ${viewportWidth} px screen`,
  ).toBeLessThanOrEqual(viewportWidth);
}

for (const viewport of SIZES) {
  const size = `${viewport.width}px`;

  test(`at ${size}, every state and banner fits the screen, and long values wrap with their full text`, async ({
    signedIn,
  }) => {
    // A walk over every state and every outcome's banner: its time grows with the list.
    test.setTimeout(30_000 + allOutcomes.length * 2_000);
    const { page, integrations } = await signedIn("admin", { viewport });
    await integrations.goto();
    await integrations.expectStatus("Not connected");
    await expectFits(page, "not connected");
    await expectNoViolations(page);
    await snapshot(page, `mobile-${size}-not-connected`);

    // A saved mail preference is confirmed beside its checkbox, not in a banner (accessibility.spec.ts).
    for (const outcome of allOutcomes.filter((o) => o.result !== "mail_on" && o.result !== "mail_off")) {
      await page.goto(outcomePath(outcome));
      await expect(integrations.banner()).toBeVisible();
      await expectFits(page, `banner ${outcomePath(outcome)}`);
    }
    await snapshot(page, `mobile-${size}-error-banner`);

    await integrations.goto();
    await integrations.startConnect();
    await expectFits(page, "the mock's consent page");
    await integrations.approve();
    await testDb.setConnectionDetails(DEMO_TENANT_ID, LONG);
    await mock.persons([
      {
        id: 501,
        name: LONG.pipedriveUserName,
        phones: ["+55 11 99999-0001", LONG.phone],
        emails: [LONG.email],
        organization: { id: 51, name: LONG.companyName },
      },
    ]);
    await integrations.lookup("+55 11 99999-0001");
    await expect(page.getByRole("list", { name: "Matches" })).toContainText(LONG.email);
    await expect(integrations.card()).toContainText(LONG.companyName);
    await expect(integrations.card()).toContainText(`${LONG.companyDomain}.pipedrive.com`);
    await expectFits(page, "connected, with a search result and long values");
    await expectNoViolations(page);
    await snapshot(page, `mobile-${size}-connected`);

    await testDb.expireAccessToken(DEMO_TENANT_ID);
    await mock.faults({ token: { mode: "invalid_grant" } });
    await integrations.lookup("+55 11 99999-0001");
    await integrations.expectStatus("Needs reconnect");
    await expectFits(page, "needs reconnect");
    await expectNoViolations(page);
    await snapshot(page, `mobile-${size}-needs-reconnect`);

    const member = await signedIn("member", { viewport });
    await member.integrations.goto();
    await member.integrations.expectStatus("Needs reconnect");
    await expectFits(member.page, "member view");
    await expectNoViolations(member.page);
    await snapshot(member.page, `mobile-${size}-member-view`);
  });
}

test("the sign-in page fits a 320px screen", async ({ browser }) => {
  const context = await browser.newContext({ viewport: SIZES[1] });
  const page = await context.newPage();
  await page.goto("/sign-in?error=invalid");
  await expectFits(page, "sign-in with an error");
  await expectNoViolations(page);
  await context.close();
});
