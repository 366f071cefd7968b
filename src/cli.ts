#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startGatewatch } from './app.js';
import { loadConfig } from './config/load.js';
import { isGatewatchError } from './errors.js';
import { createFingerprinter, ephemeralFingerprintKey } from './fingerprint.js';
import { PROJECT_ROOT } from './paths.js';

const USAGE = `gatewatch — traffic security monitoring sidecar for AI gateways

Usage:
  gatewatch run [--config FILE] [--listen HOST:PORT] [--upstream URL] [--admin HOST:PORT]
  gatewatch scan [--jsonl] [--fail-on SEVERITY] [--config FILE] [FILE...]
  gatewatch rules list | test
  gatewatch replay [--fingerprint-key KEY] [--config FILE] [FILE...]
  gatewatch demo [--duration SECONDS] [--seed N] [--target URL]
  gatewatch --version

Environment: GATEWATCH_CONFIG GATEWATCH_UPSTREAM GATEWATCH_LISTEN GATEWATCH_ADMIN
  GATEWATCH_FINGERPRINT_KEY GATEWATCH_SLACK_WEBHOOK_URL GATEWATCH_WEBHOOK_URL
  GATEWATCH_WEBHOOK_SECRET GATEWATCH_REDIS_URL GATEWATCH_ADMIN_TOKEN OTEL_*
`;

const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
// `gatewatch rules list | head`: a reader that stops early is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

function version(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      listen: { type: 'string' },
      upstream: { type: 'string' },
      admin: { type: 'string' },
    },
    strict: true,
  });
  const config = loadConfig({
    ...(values.config !== undefined ? { file: values.config } : {}),
    flags: { listen: values.listen, upstream: values.upstream, admin: values.admin },
  });
  const gw = await startGatewatch(config);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`gatewatch: ${signal}: draining (in-flight requests finish, alerts flush)\n`);
      void gw.close(15_000).then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

/** Content detectors for the offline commands, with an optional config file for rule overrides. */
async function offlineDetectors(argv: string[]) {
  const { createContentDetectors } = await import('./detect/registry.js');
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : undefined;
  const rest = i >= 0 ? [...argv.slice(0, i), ...argv.slice(i + 2)] : argv;
  const config = loadConfig({ ...(file ? { file } : {}), flags: {} });
  const fingerprint = createFingerprinter(config.fingerprintKey ?? ephemeralFingerprintKey());
  return { detectors: createContentDetectors(config, fingerprint), rest };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run(rest);
    // Each command loads what it needs: `run` keeps the detectors on its worker thread only.
    case 'scan': {
      const [{ runScan }, { detectors, rest: args }] = await Promise.all([import('./scan/command.js'), offlineDetectors(rest)]);
      return runScan(args, io, detectors);
    }
    case 'rules': {
      const { runRulesCommand } = await import('./scan/rules-command.js');
      return runRulesCommand(rest, io);
    }
    case 'replay': {
      const { runReplay } = await import('./replay/command.js');
      return runReplay(rest, io);
    }
    case 'demo': {
      const { runDemo } = await import('./demo/command.js');
      return runDemo(rest, io);
    }
    case '--version':
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`gatewatch: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isGatewatchError(e)) {
      process.stderr.write(`gatewatch: ${e.message} (${e.code})\n`);
      process.exitCode = 2;
    } else if (e instanceof Error && 'code' in e && String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gatewatch: ${e.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`gatewatch: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
