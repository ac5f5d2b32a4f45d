// drive-page.js SCENARIO URL ARTIFACT_DIR: drives the containersd Cockpit page
// in Debian's chromium as a person would, for tests/test-cockpit.py, and
// prints one JSON line per check: {"ok": bool, "desc": "...", "diag": "..."}.
//
// Every wait is on a DOM state (Playwright's waiting on selectors), bounded by
// WAIT_MS; nothing sleeps. Scenarios:
//   admin         the bridge may do everything: create and start through the
//                 dialog, follow a Stop made from outside (busctl), read the
//                 log, remove.
//   unprivileged  the bridge runs as a user polkit denies: Start of the
//                 container named "held" shows NotAuthorized.
//   daemon-restart  containersd stops and starts again under the open page
//                 (asked of the test through {"ask": ...} lines, answered
//                 "done" on stdin).
"use strict";

const { execFileSync } = require("child_process");
const path = require("path");
const { chromium } = require("playwright-core");

const NAME = "org.example.Containers1";
const CONTAINER = NAME + ".Container";
const WAIT_MS = 60000;
const CHROMIUM = process.env.CTRD_CHROMIUM || "/usr/bin/chromium";

const [scenario, url, artifacts] = process.argv.slice(2);
let failures = 0;

function report(ok, desc, diag) {
  if (!ok)
    failures++;
  process.stdout.write(JSON.stringify({ ok: !!ok, desc, diag: diag || "" }) + "\n");
}

// One check: runs @body (which waits for a DOM state); a failure is reported
// with its error and ends the scenario, since later steps build on it.
async function step(desc, body) {
  try {
    await body();
    report(true, desc);
  } catch (ex) {
    report(false, desc, String(ex && ex.stack || ex));
    throw ex;
  }
}

function row(page, name) {
  return page.locator(`#containers tbody tr[data-name="${name}"]`);
}

async function admin(page) {
  await step("the page lists no container yet", async () => {
    await page.locator("#containers-empty").waitFor({ state: "visible", timeout: WAIT_MS });
    const count = await page.locator("#containers tbody tr").count();
    if (count !== 0)
      throw new Error(`${count} rows listed`);
  });

  await step("the create dialog offers the busybox image", async () => {
    await page.click("#create-open");
    await page.locator("#create-dialog").waitFor({ state: "visible", timeout: WAIT_MS });
    await page.locator('#create-image option[value^="busybox"]').waitFor({ state: "attached", timeout: WAIT_MS });
    const value = await page.locator('#create-image option[value^="busybox"]').first().getAttribute("value");
    await page.selectOption("#create-image", value);
  });

  await step("Create and run starts the container, shown running without a reload", async () => {
    await page.fill("#create-name", "web");
    // stops at once on SIGTERM, so Remove of the running container is quick
    await page.fill("#create-command",
                    'sh -c "trap \'exit 0\' TERM; echo hello-from-cockpit; while :; do sleep 1; done"');
    await page.click("#create-run");
    await page.locator("#create-dialog").waitFor({ state: "hidden", timeout: WAIT_MS });
    await page.locator('#containers tbody tr[data-name="web"][data-state="running"]')
      .waitFor({ timeout: WAIT_MS });
    const image = await row(page, "web").locator("td.image").textContent();
    if (!image.startsWith("busybox"))
      throw new Error(`image column reads "${image}"`);
    const command = await row(page, "web").locator("td.command").textContent();
    if (!command.includes("hello-from-cockpit"))
      throw new Error(`command column reads "${command}"`);
  });

  await step("creating a second 'web' shows NameInUse in the dialog and keeps it open", async () => {
    await page.click("#create-open");
    await page.fill("#create-name", "web");
    await page.fill("#create-command", "true");
    await page.click("#create-only");
    await page.locator('#create-error[data-error="NameInUse"]').waitFor({ state: "visible", timeout: WAIT_MS });
    const text = await page.locator("#create-error").textContent();
    if (!text.includes("web"))
      throw new Error(`the message does not name the container: "${text}"`);
    await page.click("#create-cancel");
    await page.locator("#create-dialog").waitFor({ state: "hidden", timeout: WAIT_MS });
    const count = await page.locator("#containers tbody tr").count();
    if (count !== 1)
      throw new Error(`${count} rows listed`);
  });

  await step("the column headers sort the list, both ways", async () => {
    await page.click("#create-open");
    await page.fill("#create-name", "api");
    await page.fill("#create-command", "true");
    await page.click("#create-only");
    await row(page, "api").waitFor({ timeout: WAIT_MS });
    const names = () => page.locator("#containers tbody tr").evaluateAll(rows => rows.map(r => r.dataset.name));
    const expect_order = async (want, after) => {
      await page.waitForFunction(want => Array.from(document.querySelectorAll("#containers tbody tr"))
        .map(r => r.dataset.name).join(",") === want, want.join(","), { timeout: WAIT_MS })
        .catch(async () => { throw new Error(`${after}: order ${await names()}, not ${want}`); });
    };
    await expect_order(["api", "web"], "by name");
    await page.click('#containers th[data-sort="name"] button');
    await expect_order(["web", "api"], "by name, descending");
    await page.click('#containers th[data-sort="created"] button');
    await expect_order(["web", "api"], "by creation");
    await page.click('#containers th[data-sort="created"] button');
    await expect_order(["api", "web"], "by creation, descending");
    // a stopped container's Remove needs no force and says nothing of stopping
    await row(page, "api").locator('button[data-action="remove"]').click();
    await page.locator("#remove-dialog").waitFor({ state: "visible", timeout: WAIT_MS });
    const text = await page.locator("#remove-text").textContent();
    if (text.includes("stopped first"))
      throw new Error(`the confirm reads "${text}"`);
    await page.click("#remove-confirm");
    await row(page, "api").waitFor({ state: "detached", timeout: WAIT_MS });
  });

  await step("a container whose first start fails is removed again, its name left free", async () => {
    await page.click("#create-open");
    await page.fill("#create-name", "broken");
    await page.fill("#create-command", "/no/such/program");
    await page.click("#create-run");
    const alert = page.locator('#alerts .alert[data-error="RuntimeError"]', { hasText: "Start broken" });
    await alert.waitFor({ timeout: WAIT_MS });
    await row(page, "broken").waitFor({ state: "detached", timeout: WAIT_MS });
    await alert.locator("button").click();
    await alert.waitFor({ state: "detached", timeout: WAIT_MS });
  });

  await step("the details pane shows its properties, its log line and its configuration", async () => {
    await row(page, "web").locator("td.name").click();
    await page.locator('#details[data-state="running"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#details-properties dd[data-property="Name"]', { hasText: "web" })
      .waitFor({ timeout: WAIT_MS });
    await page.locator("#log", { hasText: "hello-from-cockpit" }).waitFor({ timeout: WAIT_MS });
    await page.click("#inspect-block summary");
    await page.locator("#inspect", { hasText: "hello-from-cockpit" }).waitFor({ state: "visible", timeout: WAIT_MS });
    await page.screenshot({ path: path.join(artifacts, "cockpit-running.png") });
  });

  const objectPath = await row(page, "web").getAttribute("data-path");
  await step("a Stop made with busctl shows on the page without a reload", async () => {
    execFileSync("busctl", ["--system", "--timeout=120", "call", NAME, objectPath, CONTAINER, "Stop", "u", "1"],
                 { stdio: ["ignore", "pipe", "pipe"] });
    await page.locator('#containers tbody tr[data-name="web"]:is([data-state="exited"], [data-state="stopped"])')
      .waitFor({ timeout: WAIT_MS });
    await page.locator('#details:is([data-state="exited"], [data-state="stopped"])').waitFor({ timeout: WAIT_MS });
    await page.locator('#log-following').waitFor({ state: "hidden", timeout: WAIT_MS });
  });

  await step("Restart from the row runs it again, and the details pane follows its log", async () => {
    await row(page, "web").locator('button[data-action="restart"]').click();
    await page.locator('#containers tbody tr[data-name="web"][data-state="running"]')
      .waitFor({ timeout: WAIT_MS });
    await page.locator('#details[data-state="running"]').waitFor({ timeout: WAIT_MS });
    await page.waitForFunction(
      () => (document.getElementById("log").textContent.match(/hello-from-cockpit/g) || []).length === 2,
      null, { timeout: WAIT_MS });
  });

  await step("the running container's row shows its CPU use and memory from GetStats", async () => {
    await page.locator('#containers tbody tr[data-name="web"] td.memory', { hasText: /^\d+(\.\d)? (B|KiB|MiB|GiB)$/ })
      .waitFor({ timeout: WAIT_MS });
    await page.locator('#containers tbody tr[data-name="web"] td.cpu', { hasText: /^\d+\.\d %$/ })
      .waitFor({ timeout: WAIT_MS });
    // the README's picture (doc/cockpit.png): the list and the top of the details
    await page.screenshot({ path: path.join(artifacts, "cockpit-readme.png"),
                            clip: { x: 0, y: 0, width: 1280, height: 480 } });
  });

  await step("Pause and Resume from the row freeze and thaw it", async () => {
    await row(page, "web").locator('button[data-action="pause"]').click();
    await page.locator('#containers tbody tr[data-name="web"][data-state="paused"] button[data-action="resume"]')
      .waitFor({ timeout: WAIT_MS });
    await row(page, "web").locator('button[data-action="resume"]').click();
    await page.locator('#containers tbody tr[data-name="web"][data-state="running"] button[data-action="pause"]')
      .waitFor({ timeout: WAIT_MS });
  });

  await step("a health check given with Update shows as the row's healthy badge", async () => {
    execFileSync("busctl", ["--system", "--timeout=120", "call", NAME, objectPath, CONTAINER, "Update",
                            "a{sv}", "2", "HealthCmd", "as", "1", "true", "HealthInterval", "u", "1"],
                 { stdio: ["ignore", "pipe", "pipe"] });
    await page.locator('#containers tbody tr[data-name="web"][data-health="healthy"] td.health',
                       { hasText: "healthy" }).waitFor({ timeout: WAIT_MS });
  });

  await step("the filter hides rows whose name and image do not match", async () => {
    await page.fill("#filter", "no-such-container");
    await row(page, "web").waitFor({ state: "hidden", timeout: WAIT_MS });
    await page.locator("#containers-unmatched").waitFor({ state: "visible", timeout: WAIT_MS });
    await page.fill("#filter", "busy");
    await row(page, "web").waitFor({ state: "visible", timeout: WAIT_MS });
    await page.locator("#containers-unmatched").waitFor({ state: "hidden", timeout: WAIT_MS });
    await page.fill("#filter", "");
  });

  await step("Remove of the running container asks, forces, and the row and the details pane go", async () => {
    await row(page, "web").locator('button[data-action="remove"]').click();
    await page.locator("#remove-dialog").waitFor({ state: "visible", timeout: WAIT_MS });
    const text = await page.locator("#remove-text").textContent();
    if (!text.includes("stopped first"))
      throw new Error(`the confirm reads "${text}"`);
    await page.click("#remove-confirm");
    await row(page, "web").waitFor({ state: "detached", timeout: WAIT_MS });
    await page.locator("#details").waitFor({ state: "hidden", timeout: WAIT_MS });
    await page.locator("#containers-empty").waitFor({ state: "visible", timeout: WAIT_MS });
    const alerts = await page.locator("#alerts .alert").count();
    if (alerts !== 0)
      throw new Error(`alerts shown: ${await page.locator("#alerts").textContent()}`);
  });
}

async function unprivileged(page) {
  await step("the container 'held' is listed for a user with no rights", async () => {
    await page.locator('#containers tbody tr[data-name="held"][data-state="configured"]')
      .waitFor({ timeout: WAIT_MS });
  });

  await step("Start shows a NotAuthorized message naming the action", async () => {
    await row(page, "held").locator('button[data-action="start"]').click();
    const alert = page.locator('#alerts .alert[data-error="NotAuthorized"]');
    await alert.waitFor({ timeout: WAIT_MS });
    const text = await alert.textContent();
    if (!text.includes("Start held"))
      throw new Error(`the message reads "${text}"`);
    // the button is usable again: the page did not wedge
    await page.locator('#containers tbody tr[data-name="held"][data-state="configured"] ' +
                       'button[data-action="start"]:not([disabled])').waitFor({ timeout: WAIT_MS });
  });

  await step("its log and Inspect are refused with NotAuthorized in the details pane", async () => {
    await row(page, "held").locator("td.name").click();
    await page.locator('#log-error[data-error="NotAuthorized"]').waitFor({ state: "visible", timeout: WAIT_MS });
    await page.click("#inspect-block summary");
    await page.locator('#inspect-error[data-error="NotAuthorized"]').waitFor({ state: "visible", timeout: WAIT_MS });
    await page.screenshot({ path: path.join(artifacts, "cockpit-not-authorized.png") });
  });
}

// Asks tests/test-cockpit.py to do @what (stop or start the daemon) and
// waits for its answer on stdin.
const answers = [];
let answered = null;
require("readline").createInterface({ input: process.stdin }).on("line", line => {
  answers.push(line);
  if (answered)
    answered();
});

async function ask(what) {
  process.stdout.write(JSON.stringify({ ask: what }) + "\n");
  while (!answers.length)
    await new Promise(resolve => { answered = resolve; });
  const answer = answers.shift();
  if (answer !== "done")
    throw new Error(`${what}: ${answer}`);
}

async function daemon_restart(page) {
  await step("the container 'held' is listed", async () => {
    await page.locator('#containers tbody tr[data-name="held"][data-state="configured"]')
      .waitFor({ timeout: WAIT_MS });
    await page.locator("#service-missing").waitFor({ state: "hidden", timeout: WAIT_MS });
  });

  await step("when containersd stops, the page says so and offers no create", async () => {
    await ask("stop-daemon");
    await page.locator("#service-missing").waitFor({ state: "visible", timeout: WAIT_MS });
    await page.locator("#create-open:disabled").waitFor({ timeout: WAIT_MS });
  });

  await step("when containersd is back, the page follows it again without a reload", async () => {
    await ask("start-daemon");
    await page.locator("#service-missing").waitFor({ state: "hidden", timeout: WAIT_MS });
    await page.locator('#containers tbody tr[data-name="held"][data-state="configured"]')
      .waitFor({ timeout: WAIT_MS });
    await page.locator("#create-open:enabled").waitFor({ timeout: WAIT_MS });
    const rows = await page.locator("#containers tbody tr").count();
    if (rows !== 1)
      throw new Error(`${rows} rows listed`);
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const console_lines = [];
  page.on("console", msg => console_lines.push(`${msg.type()}: ${msg.text()}`));
  page.on("pageerror", err => console_lines.push(`page error: ${err}`));
  try {
    await step("the page loads and lists the containers", async () => {
      await page.goto(url);
      await page.locator('#containers[data-ready="true"]').waitFor({ timeout: WAIT_MS });
    });
    if (scenario === "admin")
      await admin(page);
    else if (scenario === "unprivileged")
      await unprivileged(page);
    else if (scenario === "daemon-restart")
      await daemon_restart(page);
    else
      throw new Error("unknown scenario " + scenario);
  } catch (ex) {
    await page.screenshot({ path: path.join(artifacts, `cockpit-${scenario}-failed.png`) }).catch(() => {});
    report(false, "the scenario ran to its end", String(ex && ex.stack || ex) + "\n" + console_lines.join("\n"));
  } finally {
    const errors = console_lines.filter(line => line.startsWith("page error"));
    report(errors.length === 0, "no script error on the page", errors.join("\n"));
    await browser.close();
  }
  process.exit(failures ? 1 : 0);
}

main();
