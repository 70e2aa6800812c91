import { Command, type Interfaces } from '@oclif/core';
import { renderJson, renderJsonChunks, renderJsonStream, renderYamlChunks } from '../render/document.js';
import { renderYamlStream } from '../render/yaml.js';
import { createStyle, type Style } from '../render/style.js';
import { EXIT, KnetError, inputError, type ExitCode } from '../model/errors.js';
import { shouldEscapeControl, stripControl, stripControlDeep } from '../model/text.js';
import { outputFlags } from './flags.js';
import { closeOpenedSources } from '../sources/opened.js';
import { asksForJson, describeUsageError, flagWithoutItsFlag } from './usage.js';

/** Whether a result holds an error finding anywhere (depth-bounded: results are knet's own objects). */
export function hasErrorFinding(value: unknown, depth = 0): boolean {
  if (depth > 64 || typeof value !== 'object' || value === null) return false;
  // Typed arrays (a matrix's million verdicts) hold numbers only; walking their keys would make a string per index.
  if (ArrayBuffer.isView(value)) return false;
  // Only objects are looked into: a report's strings and numbers, most of its fields, cost no call.
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) if (typeof v === 'object' && v !== null && hasErrorFinding(v, depth + 1)) return true;
    return false;
  }
  const o = value as Record<string, unknown>;
  if (o.severity === 'error' && typeof o.code === 'string' && typeof o.message === 'string') return true;
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'object' && v !== null && hasErrorFinding(v, depth + 1)) return true;
  }
  return false;
}

export type KnetFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof KnetCommand)['baseFlags'] & T['flags']>;
export type KnetArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

/**
 * A result for --json or -o yaml given in steps (see `KnetCommand.executeStreamed`): its first field `key` holds
 * a long list, whose elements `items` makes as it is read; `rest()` is the result with that list
 * empty, asked for once the list has been read.
 */
export interface StreamedResult<R> {
  key: keyof R & string;
  items: Iterable<unknown>;
  rest(): R;
}

export interface RenderContext {
  /** `wide` adds columns; both are for people. */
  isWide: boolean;
  style: Style;
}

/**
 * The base of every knet command. A command parses its input, calls a source and an engine in
 * `execute()`, and returns its result: that object is exactly what `--json` prints. `renderText()`
 * only formats it for people; `exitCodeOf()` reads the contract's 0 or 1 from it.
 *
 * Rules every command follows, enforced here so that a new command cannot forget them:
 * - Exit 1 whenever the result holds an error finding (an object with `code` and `severity: "error"`
 *   anywhere in it, in any `findings` list), whatever `exitCodeOf()` says: a CI gate that prints an
 *   error and exits 0 is the worst thing knet could do. `exitCodeOf()` may add reasons for 1 (traffic
 *   dropped, a failed check), never remove this one.
 * - Text from inputs never reaches a terminal with its control characters: table and YAML output is
 *   rendered from a copy with every string made safe (`stripControlDeep`), errors likewise; JSON
 *   escapes them. `--raw` written to a file or a pipe is the one exception: its bytes go out unchanged.
 * - On error with --json / -o json, stdout still carries one JSON document: `{ error: { code, message, exitCode } }`.
 */
export abstract class KnetCommand<T extends typeof Command, R> extends Command {
  static override baseFlags = outputFlags;

  protected flags!: KnetFlags<T>;
  protected args!: KnetArgs<T>;

  public override async init(): Promise<void> {
    await super.init();
    const ctor = this.ctor as unknown as typeof KnetCommand;
    const { args, flags } = await this.parse({
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      args: ctor.args,
      strict: ctor.strict,
    });
    this.flags = flags as KnetFlags<T>;
    this.args = args as KnetArgs<T>;
    // Said, not refused: a script that always passes --concurrency must keep working.
    const idle = flagWithoutItsFlag(ctor.flags ?? {}, flags, this.argv);
    if (idle !== null) process.stderr.write(`Note: --${idle.flag} applies to --${idle.needs} only, and is ignored without it.\n`);
  }

  protected abstract execute(): Promise<R>;
  protected abstract renderText(result: R, ctx: RenderContext): string;

  protected exitCodeOf(_result: R): ExitCode {
    return EXIT.ok;
  }

  /**
   * For --json and -o yaml, a command whose result is one long list may give it in steps instead of
   * `execute()`: each element is written and dropped as it is made, so that the list never exists
   * whole (10,000 Services' entries, kept until the end, cost more to keep than to make). What is
   * printed is exactly what `execute()`'s result prints. undefined: not offered.
   */
  protected executeStreamed(): Promise<StreamedResult<R> | undefined> {
    return Promise.resolve(undefined);
  }

  protected get format(): OutputFormat {
    const f = this.flags as unknown as { json?: boolean; output?: OutputFormat };
    if (f.json && f.output && f.output !== 'json') {
      throw inputError(`--json and -o ${f.output} ask for two different outputs`, 'conflicting-flags', [
        'Use one of them: --json (same as -o json) or -o yaml|table|wide.',
      ]);
    }
    return f.json ? 'json' : (f.output ?? 'table');
  }

  protected get isColor(): boolean {
    const f = this.flags as unknown as { 'no-color'?: boolean };
    if (f['no-color'] || process.env.NO_COLOR) return false;
    if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
    return process.stdout.isTTY === true;
  }

  public async run(): Promise<R> {
    const format = this.format;
    if (format === 'json' || format === 'yaml') {
      const streamed = await this.executeStreamed();
      if (streamed) return this.writeStreamed(streamed, format);
    }
    const result = await this.execute();
    let text: string;
    if (format === 'json') {
      // In pieces: a large report is never one string as large as the output.
      for (const piece of renderJsonChunks(result)) process.stdout.write(piece);
      text = '\n';
    } else if (format === 'yaml') {
      // In pieces, as --json: plain data is laid out here, anything else by the yaml package.
      for (const piece of renderYamlChunks(stripControlDeep(result))) process.stdout.write(piece);
      text = '';
    } else {
      const isRaw = (this.flags as unknown as { raw?: boolean }).raw === true;
      const safe = shouldEscapeControl({ isRaw, isTTY: process.stdout.isTTY === true }) ? stripControlDeep(result) : result;
      text = this.renderText(safe, { isWide: format === 'wide', style: createStyle(this.isColor, process.stdout.isTTY ? process.stdout.columns : undefined) });
    }
    if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    this.setExitCode(result);
    return result;
  }

  /** The contract's exit code for a result: `exitCodeOf()`, and 1 whenever it holds an error finding. A command that overrides run() calls this. */
  protected setExitCode(result: R, hasErrorElsewhere = false): void {
    let code = this.exitCodeOf(result);
    if (code === EXIT.ok && (hasErrorElsewhere || hasErrorFinding(result))) code = EXIT.problem;
    if (code !== EXIT.ok) process.exitCode = code;
  }

  /** --json or -o yaml from a StreamedResult; returns the result with its list empty (the list was written). */
  private writeStreamed(streamed: StreamedResult<R>, format: 'json' | 'yaml'): R {
    // The elements are looked at for error findings as they pass, until one is found.
    let hasError = false;
    function* watched(): Generator<unknown> {
      for (const item of streamed.items) {
        if (!hasError && hasErrorFinding(item, 2)) hasError = true;
        yield item;
      }
    }
    let rest: R | undefined;
    const restOf = (): Record<string, unknown> => (rest = streamed.rest()) as Record<string, unknown>;
    if (format === 'json') {
      for (const piece of renderJsonStream(streamed.key, watched(), restOf)) process.stdout.write(piece);
      process.stdout.write('\n');
    } else {
      const safe = function* (): Generator<unknown> {
        for (const item of watched()) yield stripControlDeep(item);
      };
      for (const piece of renderYamlStream(streamed.key, safe(), () => stripControlDeep(restOf()))) process.stdout.write(piece);
    }
    this.setExitCode(rest!, hasError);
    return rest!;
  }

  /** Every error ends here: a message and what to do next on stderr, the contract's exit code, no stack trace. */
  // oclif awaits catch(); nothing here needs to wait.
  // eslint-disable-next-line @typescript-eslint/require-await
  public override async catch(err: Error & { oclif?: { exit?: number }; code?: unknown }): Promise<void> {
    const isDebug = this.isDebug;
    const known = err instanceof KnetError;
    const parseExit = err.oclif?.exit;
    const exit: ExitCode = known ? err.exit : parseExit !== undefined ? EXIT.input : EXIT.internal;
    const command = `${this.config.bin} ${(this.id ?? '').replaceAll(':', ' ')}`.trimEnd();
    const usage = !known && parseExit !== undefined ? describeUsageError(err.message, { command, flags: this.ctor.flags ?? {}, args: this.ctor.args ?? {}, argv: this.argv }) : null;
    const message = usage?.message ?? err.message.replace(/^Error: /, '');
    const lines = [`Error: ${stripControl(message)}`];
    if (known) lines.push(...err.suggestions.map((s) => `  ${stripControl(s)}`));
    else if (parseExit !== undefined) lines.push(...(usage?.suggestions ?? []).map((s) => `  ${stripControl(s)}`), `  See: ${command} --help`);
    else lines.push('  This is a bug in knet. Run again with --debug and report the output.');
    if (isDebug && err.stack) lines.push('', err.stack);
    if (isDebug && err.cause) lines.push(`Caused by: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : JSON.stringify(err.cause)}`);
    process.stderr.write(lines.join('\n') + '\n');
    if (this.wantsJsonError()) {
      const code = known ? err.code : parseExit !== undefined ? 'bad-flags' : 'internal-error';
      process.stdout.write(renderJson({ error: { code, message: known ? err.message : message, exitCode: exit } }) + '\n');
    }
    process.exitCode = exit;
  }

  /** Whatever happened, remove what the sources made in the cluster (debug pods) before exiting. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    try {
      await closeOpenedSources();
    } catch (closeErr) {
      const e = closeErr as KnetError;
      process.stderr.write(`Error: ${e.message}\n${(e.suggestions ?? []).map((s) => `  ${s}\n`).join('')}`);
      if (!process.exitCode) process.exitCode = EXIT.environment;
    }
    return super.finally(err);
  }

  private get isDebug(): boolean {
    const f = this.flags as unknown as { debug?: boolean } | undefined;
    return f?.debug === true || this.argv.includes('--debug') || /\bknet\b|\*/.test(process.env.DEBUG ?? '');
  }

  private wantsJsonError(): boolean {
    return asksForJson(this.argv);
  }
}
