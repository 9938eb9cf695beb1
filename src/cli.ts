#!/usr/bin/env node
import type { Command } from './commands/command.js';

// Commands load lazily so `smpp-operator smsc-sim` does not pay for the Kubernetes client.
const commands: Record<string, () => Promise<Command>> = {
  'smsc-sim': async () => (await import('./commands/smsc-sim.js')).command,
  crds: async () => (await import('./commands/crds.js')).command,
  devcore: async () => (await import('./commands/devcore.js')).command,
  run: async () => (await import('./commands/run.js')).command,
  demo: async () => (await import('./commands/demo.js')).command,
};

async function usage(): Promise<string> {
  const lines = ['Usage: smpp-operator <command> [options]', '', 'Commands:'];
  for (const load of Object.values(commands)) {
    const c = await load();
    lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  }
  lines.push('', "Run 'smpp-operator <command> --help' for a command's options.");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`smpp-operator: unknown command '${name}'\n\n${await usage()}`);
    return 2;
  }
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
