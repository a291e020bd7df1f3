// `enrichd lists import` on a terminal: a failed upload stops the progress bar, so the process can exit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { importListFile } from '../../../src/cli/lists-import.js';

const dir = mkdtempSync(join(tmpdir(), 'enrichd-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('lists import on a terminal', () => {
  it('stops its bar when the upload fails', async () => {
    const file = join(dir, 'people.csv');
    writeFileSync(file, `first_name,last_name\n${'Ann,Lee\n'.repeat(1000)}`);
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 80, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream;
    tty.resume();
    const before = timers();
    const errors: string[] = [];
    const code = await importListFile({ file, url: 'http://127.0.0.1:1', token: 'x', json: false, out: () => undefined, err: (l) => errors.push(l), progress: tty });
    expect(code).toBe(1);
    expect(errors[0]).toMatch(/upload to http:\/\/127\.0\.0\.1:1 failed/);
    expect(timers()).toBe(before);
  });
});
