// The dashboard end to end: Debian's Chromium (playwright-core) against a whole enrichd on its
// own database and Redis prefix. Sign in through the `#token=` link, upload a CSV, build a plan,
// run it and watch it complete live, export and download, open the detail, retry a failed job,
// cancel a delayed one, bulk-cancel two; every view at both viewports is checked by axe-core,
// for sideways scrolling, and photographed under test-results/screenshots/. Any console error
// or page error fails the run.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../src/api/routes/dashboard.js';
import { ROOT } from '../helpers/processes.js';
import { type TestSystem, startTestSystem, waitFor } from '../helpers/system.js';
import { type Browser, VIEWPORTS, type ViewportName, horizontalOverflow, launchChromium, seriousViolations } from './chromium.js';

const SHOTS = join(ROOT, 'test-results', 'screenshots');
const ROWS = 240;

let sys: TestSystem;
let browser: Browser;
let page: Page;
let base: string;
let token: string;

interface ApiJob {
  id: string;
  status: string;
  attempts: number;
}

async function api<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const res = await sys.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}

const submit = (body: object) => api<ApiJob>('POST', '/v1/enrichment/jobs', body);
const statusOf = async (id: string) => (await api<ApiJob>('GET', `/v1/enrichment/jobs/${id}`)).status;

function peopleCsv(): Buffer {
  const lines = ['external_id,first_name,last_name,email,phone,country,contact_name,notes'];
  for (let i = 0; i < ROWS; i++) {
    const email = i % 7 === 0 ? `broken${i}@` : `person${i}@example.com`;
    lines.push(`p${i},Robert,Smith${i},${email},+1 202 555 ${String(1000 + i).slice(-4)},US,Bob Smith${i},note ${i}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Screenshots, axe-core and the sideways-scroll check of the view on screen, at both sizes. */
async function checkView(name: string): Promise<void> {
  for (const vp of Object.keys(VIEWPORTS) as ViewportName[]) {
    await page.setViewportSize(VIEWPORTS[vp]);
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(SHOTS, `${name}-${vp}.png`), fullPage: true });
    expect(await horizontalOverflow(page), `${name} at ${vp} scrolls sideways`).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page), `${name} at ${vp}`).toEqual([]);
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

/** The Nav link to a view, and its heading once shown. */
async function open(view: 'Jobs' | 'Metrics' | 'Lists & plans'): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view }).click();
  await page.getByRole('heading', { level: 1, name: view }).waitFor();
}

beforeAll(async () => {
  if (!existsSync(join(DASHBOARD_DIR, 'index.html'))) throw new Error('dist/web is missing: run `npm run build` before the dashboard tests');
  mkdirSync(SHOTS, { recursive: true });
  sys = await startTestSystem({ workers: 1 });
  await sys.app.listen({ port: 0, host: '127.0.0.1' });
  const address = sys.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('not listening');
  base = `http://127.0.0.1:${address.port}`;
  token = await sys.token();
  browser = await launchChromium('desktop');
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await sys?.close();
});

describe('dashboard', () => {
  it('signs in through the #token= link and keeps the token out of the address bar', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Sign in to enrichd' }).waitFor();
    // A malformed paste is refused on the page, without a request.
    await page.getByLabel('API token').fill('not a token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not a token').waitFor();
    await checkView('sign-in');

    await page.goto(`${base}/#token=${token}`);
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    expect(page.url()).not.toContain('token');
    expect(page.url()).not.toContain(token.slice(0, 20));
    expect(await page.evaluate('sessionStorage.getItem("enrichd.token")')).toBe(token);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByText('No job matches these filters.').waitFor();
  });

  it('uploads a CSV, builds a plan, runs it live to completed, exports and downloads', async () => {
    await open('Lists & plans');
    await page.evaluate('window.__notReloaded = true');
    await page.getByLabel(/CSV file/).setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: peopleCsv() });
    await page.getByLabel(/List name/).fill('e2e people');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText(`${ROWS} entries, 8 columns`).waitFor();
    await page.getByText('recognised as email').waitFor();
    const preview = page.getByRole('region', { name: 'First rows of the list' });
    await preview.getByRole('cell', { name: 'person1@example.com' }).waitFor();
    expect(await preview.getByRole('row').count()).toBe(11); // the header and 10 rows

    await page.getByLabel('rpc_score').check();
    await page.getByLabel('rpcThreshold').fill('80');
    await page.getByLabel('email_validation').check();
    await page.getByLabel('phone_normalization').check();
    await page.getByRole('button', { name: 'Create plan' }).click();
    await page.getByText('rpc_score → email_validation → phone_normalization').waitFor();

    await page.getByRole('button', { name: 'Start enrichment' }).click();
    const run = page.getByRole('region', { name: /Run the enrichment/ });
    await run.locator('.badge-completed').waitFor({ timeout: 30_000 });
    expect(await run.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(await page.evaluate('window.__notReloaded')).toBe(true);

    await page.getByRole('button', { name: 'Export the list' }).click();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click({ timeout: 30_000 });
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(ROWS + 1);
    expect(csv[0]).toContain('email_validation.status');
    expect(csv[0]).toContain('rpc_score.class');
    await page.getByText(/Saved as export-/).waitFor();
    await checkView('wizard');

    // The job's detail, from the link in the wizard.
    await run.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Lifecycle' }).waitFor();
    await page.locator('.status-line .badge-completed').waitFor();
    await page.locator('.timeline li', { hasText: 'completed' }).waitFor();
    expect(await page.getByRole('button', { name: 'Retry', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Cancel job' }).isDisabled()).toBe(true);
    await checkView('job-detail');
  });

  it('retries a failed job and cancels a delayed one from their detail', async () => {
    const failing = await submit({ type: 'test_job', payload: { fail: 'always' }, maxAttempts: 1, tags: ['e2e-fail'] });
    await waitFor(async () => (await statusOf(failing.id)) === 'failed');
    await page.goto(`${base}/#/jobs?status=failed`);
    await page.getByRole('link', { name: new RegExp(`^Job ${failing.id.slice(0, 8)}`) }).click();
    await page.locator('.status-line .badge-failed').waitFor();
    await page.getByText('1 made, 1 allowed').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel job' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await page.getByText('Retried: the job is pending again.').waitFor();
    // It fails again (fail: always), live: the second attempt shows without a reload.
    await page.getByText('2 made, 1 allowed').waitFor({ timeout: 20_000 });
    await page.locator('.status-line .badge-failed').waitFor();
    expect((await api<ApiJob>('GET', `/v1/enrichment/jobs/${failing.id}`)).attempts).toBe(2);

    const delayed = await submit({ type: 'test_job', delayMs: 600_000 });
    expect(delayed.status).toBe('scheduled');
    await page.goto(`${base}/#/jobs/${delayed.id}`);
    await page.locator('.status-line .badge-scheduled').waitFor();
    expect(await page.getByRole('button', { name: 'Retry', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('dialog', { name: 'Cancel this job?' }).getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('.status-line .badge-cancelled').waitFor();
    expect(await statusOf(delayed.id)).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Retry', exact: true }).isEnabled()).toBe(true);
  });

  it('shows new jobs live, filters by tag and bulk-cancels two with a result per job', async () => {
    await open('Jobs');
    await page.evaluate('window.__notReloaded = true');
    const live = await submit({ type: 'test_job', payload: { sleepMs: 200 }, tags: ['e2e-live'] });
    const liveRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: new RegExp(`^Job ${live.id.slice(0, 8)}`) }) });
    await liveRow.locator('.badge-completed').waitFor({ timeout: 20_000 });
    expect(await page.evaluate('window.__notReloaded')).toBe(true);

    const a = await submit({ type: 'test_job', delayMs: 600_000, tags: ['e2e-bulk'] });
    const b = await submit({ type: 'test_job', delayMs: 600_000, tags: ['e2e-bulk'] });
    await page.getByLabel('Tag', { exact: true }).fill('e2e-bulk');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/tag=e2e-bulk/);
    await expect.poll(() => page.locator('table.jobs tbody tr').count()).toBe(2);
    await page.getByLabel('Select all jobs on this page').check();
    await page.getByRole('button', { name: 'Cancel selected' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel 2 jobs?' });
    await dialog.getByRole('button', { name: 'Cancel 2 jobs' }).click();
    await page.getByRole('dialog', { name: 'Cancel: 2 of 2 done' }).waitFor();
    expect(await page.getByRole('dialog').getByText('ok, now cancelled').count()).toBe(2);
    await checkView('jobs-bulk-result');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.locator('table.jobs tbody .badge-cancelled').count()).toBe(2);
    expect([await statusOf(a.id), await statusOf(b.id)]).toEqual(['cancelled', 'cancelled']);
    await checkView('jobs');
  });

  it('shows the metrics: chart, rates, queue, durations, workers and usage', async () => {
    await open('Metrics');
    await page.getByRole('img', { name: /Jobs ended per minute/ }).waitFor();
    await page.getByText('Success rate').waitFor();
    await page.getByText('Oldest waiting').waitFor();
    await page.getByRole('region', { name: 'Duration by type' }).getByRole('cell', { name: 'list_enrichment' }).waitFor();
    await page.getByRole('region', { name: 'Workers' }).getByRole('row').nth(1).waitFor();
    await page.getByText('No provider has been called').waitFor();
    await checkView('metrics');
    expect(browser.errors).toEqual([]);
  });

  it('signs out on a 401 from the API', async () => {
    const refused = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await page.evaluate(`sessionStorage.setItem('enrichd.token', ${JSON.stringify(refused)})`);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to enrichd' }).waitFor();
    await page.getByText('The server refused the token (401)').waitFor();
    expect(await page.evaluate('sessionStorage.getItem("enrichd.token")')).toBeNull();
    // Chromium logs each refused request; nothing else may have gone wrong.
    expect(browser.errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
  });
});
