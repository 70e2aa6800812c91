// readInputFile reads a file whole, synchronously, into a buffer of the size the file has: the text
// must be every byte, whatever size the file reports and however the reads fall.
import { existsSync } from 'node:fs';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputFile } from '../../src/sources/files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knet-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readInputFile', () => {
  it.each([0, 1, 4095, 65_536, 3 * 1024 * 1024 + 17])('reads a file of %i bytes whole, multi-byte characters and all', async (size) => {
    const unit = 'añ€𝄞\n';
    const text = unit.repeat(Math.ceil(size / Buffer.byteLength(unit))).slice(0, size);
    const path = join(dir, `f${size}.txt`);
    await writeFile(path, text);
    expect(await readInputFile(path, '--file', 'hint')).toBe(await readFile(path, 'utf8'));
  });

  it('drops a UTF-8 byte order mark', async () => {
    const path = join(dir, 'bom.yaml');
    await writeFile(path, '\ufeffkind: Pod\n');
    expect(await readInputFile(path, '', 'hint')).toBe('kind: Pod\n');
  });

  // A file under /proc says it is 0 bytes long and has text: the buffer must grow to hold it.
  it.skipIf(!existsSync('/proc/self/status'))('reads a file that holds more than its size says (skipped without /proc)', async () => {
    const text = await readInputFile('/proc/self/status', '', 'hint');
    expect(text).toMatch(/^Name:/);
    expect(text).toMatch(/\nPid:\s+\d+\n/);
  });
});
