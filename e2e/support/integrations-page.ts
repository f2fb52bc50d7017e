import { expect, type Page } from "@playwright/test";

// The settings page and the mock's consent screen, as a tenant admin meets them.
export class IntegrationsPage {
  constructor(readonly page: Page) {}

  readonly card = () => this.page.getByRole("region", { name: "Pipedrive" });
  readonly connectButton = () => this.card().getByRole("button", { name: "Connect Pipedrive", exact: true });
  readonly reconnectButton = () => this.card().getByRole("button", { name: "Reconnect", exact: true });
  /** Disconnect asks first, on its own page. */
  readonly disconnectLink = () => this.card().getByRole("link", { name: "Disconnect…" });
  readonly banner = () => this.page.locator(".page > .banner");

  async goto(query = "") {
    await this.page.goto(`/settings/integrations${query}`);
  }

  async status() {
    return (await this.card().locator(".badge").textContent())?.trim();
  }

  async expectStatus(
    status:
      | "Connected"
      | "Not connected"
      | "Uninstalled in Pipedrive"
      | "Needs reconnect"
      | "Needs new permissions"
      | "Paused: subscription"
      | "Paused: Pipedrive permission",
  ) {
    await expect(this.card().locator(".badge")).toHaveText(status);
  }

  /** Connect → consent page at the mock. */
  async startConnect() {
    await this.connectButton().click();
    await expect(this.page.getByRole("heading", { name: "Allow access to Pipedrive?" })).toBeVisible();
  }

  /** Allow, as the Pipedrive user chosen on the consent page (the first one unless named). */
  async approve(as?: string) {
    if (as) await this.page.getByRole("radio", { name: as }).check();
    await this.page.getByRole("button", { name: "Allow" }).click();
    await this.page.waitForURL(/\/settings\/integrations\?pipedrive=/);
  }

  async deny() {
    await this.page.getByRole("button", { name: "Deny" }).click();
    await this.page.waitForURL(/\/settings\/integrations\?pipedrive=/);
  }

  async connect() {
    await this.goto();
    await this.startConnect();
    await this.approve();
    await this.expectStatus("Connected");
  }

  /** Disconnect…, then confirm on the page that says what it does. */
  async disconnect() {
    await this.openDisconnect();
    await this.confirmDisconnect();
  }

  async openDisconnect() {
    await this.disconnectLink().click();
    await expect(this.page.getByRole("heading", { name: "Disconnect Pipedrive?" })).toBeVisible();
  }

  async confirmDisconnect() {
    await this.page.getByRole("button", { name: "Disconnect Pipedrive" }).click();
    await this.page.waitForURL(/pipedrive=(disconnected|nothing_to_disconnect)/);
  }

  async lookup(phone: string) {
    await this.page.getByLabel("Phone number").fill(phone);
    await this.page.getByRole("button", { name: "Search" }).click();
    await this.page.waitForURL(/lookup(_refused)?=/);
  }
}
