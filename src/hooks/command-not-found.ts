// oclif's command_not_found hook: a command knet does not have is named with the nearest ones, in
// knet's words and exit code 2, instead of oclif's bare "command foo not found".
import type { Interfaces } from '@oclif/core';
import { asksForJson, describeUnknownCommand } from '../cli/usage.js';
import { EXIT } from '../model/errors.js';
import { renderJson } from '../render/document.js';

// oclif awaits the hook; nothing here needs to wait.
// eslint-disable-next-line @typescript-eslint/require-await
const hook = async function (options: { id: string; argv?: string[]; config: Interfaces.Config }): Promise<void> {
  const { config, id } = options;
  const described = describeUnknownCommand(config.bin, id.split(':'), {
    commands: config.commandIDs,
    topics: config.topics.map((t) => t.name),
  });
  process.stderr.write([`Error: ${described.message}`, ...described.suggestions.map((s) => `  ${s}`)].join('\n') + '\n');
  if (asksForJson(options.argv ?? [])) process.stdout.write(renderJson({ error: { code: 'unknown-command', message: described.message, exitCode: EXIT.input } }) + '\n');
  process.exitCode = EXIT.input;
};

export default hook;
