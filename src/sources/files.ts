// Reading one input file the user named (a dump, a snapshot file), with the errors a user can act on.
// Only regular files are read: a FIFO named like a dump would hang the command, a device never ends.
// A file too large to become one string in Node is refused before it is read, and a UTF-8 byte order
// mark is dropped, as every tool that wrote the file meant it to be.
import { constants, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { KnetError } from '../model/errors.js';
import { stripBom } from '../model/text.js';

/** V8's longest string is just under 512 MiB (UTF-16 code units); past that readFile fails without a word of why. */
export const MAX_INPUT_BYTES = 512 * 1024 * 1024 - 64;

export function fileErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'it does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return code ?? (err as Error).message;
  }
}

/** Why a file could not be written, in words (a missing file is a missing directory here). */
export function writeErrorReason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'its directory does not exist';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space is left on the device';
    case 'EDQUOT':
      return 'the disk quota is used up';
    default:
      return fileErrorReason(err);
  }
}

/**
 * The text of `path`, or an input error that names `what` (e.g. `--file`) and says why: it does not
 * exist, permission denied, not a regular file, too large.
 */
export async function readInputFile(path: string, what: string, hint: string): Promise<string> {
  return decodeInput(await readInputBytes(path, what, hint));
}

/** A file's bytes as text: one decode of the whole file, a flat string (decoding piece by piece makes a rope that the first search flattens again), without a byte order mark. */
export function decodeInput(bytes: Buffer): string {
  return stripBom(bytes.toString('utf8'));
}

/** The bytes of `path`, with the errors of readInputFile; a byte order mark is left for the caller. */
export async function readInputBytes(path: string, what: string, hint: string): Promise<Buffer> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw unreadableFile(path, what, fileErrorReason(err), hint, err);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw unreadableFile(path, what, 'it is not a regular file (a FIFO, socket, device or directory is never read)', hint);
    if (info.size > MAX_INPUT_BYTES) throw unreadableFile(path, what, `it is ${Math.round(info.size / 1024 / 1024)} MiB, more than knet reads as one file (512 MiB)`, 'Split it, or capture only what you need.');
    return readAll(handle.fd, info.size);
  } catch (err) {
    if ((err as KnetError).name === 'KnetError') throw err;
    throw unreadableFile(path, what, fileErrorReason(err), hint);
  } finally {
    await handle.close();
  }
}

/**
 * Every byte of an open file, read synchronously into one buffer of the size it has (grown if the
 * file grows meanwhile). FileHandle.readFile waits for a thread-pool round trip per 512 KiB: reading
 * a 40 MB snapshot left the process idle for a tenth of a second, and nothing else runs meanwhile.
 */
function readAll(fd: number, size: number): Buffer {
  let buffer = Buffer.allocUnsafe(size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > MAX_INPUT_BYTES) throw new Error(`the file grew past ${MAX_INPUT_BYTES} bytes while it was read`);
      const larger = Buffer.allocUnsafe(length * 2);
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) return buffer.subarray(0, length);
    length += read;
  }
}

function unreadableFile(path: string, what: string, why: string, hint: string, cause?: unknown): KnetError {
  return new KnetError(`cannot read ${what ? `${what} ` : ''}${path}: ${why}`, { code: 'file-unreadable', exit: 2, suggestions: [hint], cause });
}

/** Whether readInputFile failed because the file does not exist (for optional files). */
export function isMissingFile(err: unknown): boolean {
  return err instanceof KnetError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
