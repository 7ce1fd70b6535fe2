/**
 * The command line's conventions, for every command: `--version`; a usage
 * error (an unknown command or option, a bad value, a missing argument) is one
 * line that says what is wrong and where the usage is, with exit status 2;
 * help and the version exit 0. Loads nothing but Node and commander, so that
 * `--help` and `--version` answer at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

/** Exit status of a usage error (as in BSD's sysexits and most shells' builtins). */
const USAGE_ERROR = 2;

/** shaderprop's version, from its package.json (the nearest one above this file named shaderprop). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (name === 'shaderprop' && version) return version;
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** commander's "error: …\n(Did you mean …?)\n" as one line naming the command and its help. */
function usageLine(text: string, command: string): string {
  const message = text.replace(/^error:\s*/i, '').replace(/ is invalid\. /, ' is invalid: ').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  const sentence = /[.?!]$/.test(message) ? message : `${message}.`;
  return `${command}: ${sentence} See \`${command} --help\`.`;
}

/** Applies the conventions to `program` and its commands; call it after the commands are defined. */
export function applyConventions(program: Command, argv: readonly string[] = process.argv.slice(2)): void {
  program.version(packageVersion(), '-V, --version', 'print the version of shaderprop');
  for (const command of [program, ...program.commands]) {
    const name = command === program ? program.name() : `${program.name()} ${command.name()}`;
    command.showHelpAfterError(false);
    command.configureOutput({ outputError: (text, write) => write(`${usageLine(text, name)}\n`) });
    command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE_ERROR));
  }
  if (argv.length === 0) {
    const commands = program.commands.map((c) => c.name()).join(', ');
    process.stderr.write(`${program.name()}: no command given: use one of ${commands}. See \`${program.name()} --help\`.\n`);
    process.exit(USAGE_ERROR);
  }
}
