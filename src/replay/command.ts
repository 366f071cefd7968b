import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { buildAlert } from '../alerts/build.js';
import { loadConfig } from '../config/load.js';
import { parseAnomalyConfig, type AnomalyConfig } from '../detect/anomaly/config.js';
import { createAnomalyDetectors } from '../detect/anomaly/index.js';
import { isGatewatchError } from '../errors.js';
import { createFingerprinter, type Fingerprinter } from '../fingerprint.js';
import { MemoryStore } from '../state/memory.js';
import type { Detector } from '../types.js';
import { parseRecord, RecordError } from './record.js';

// `gatewatch replay`: backtests the anomaly detectors on request history.
// Records are read in order and each one is judged at its own time, so the
// alerts carry the simulated time at which they would have fired.

export interface ReplayIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const USAGE = `usage: gatewatch replay [--fingerprint-key KEY] [--config FILE] [FILE...]
Reads JSON Lines request records (from FILEs, or stdin when none or "-"):
  {"time", "key" | "key_fingerprint", "client_ip", "user_agent", "user", "team",
   "model", "path", "status", "prompt_tokens", "completion_tokens", "latency_ms"}
and writes the anomaly alerts they raise as JSON Lines, "time" = when they fired.
`;

// A replay keeps every identity of a large history in memory.
const REPLAY_STORE = { maxEntries: 5_000_000, maxBytes: 4 * 1024 ** 3 };

interface Setup {
  readonly anomaly: AnomalyConfig;
  readonly fingerprint: Fingerprinter | undefined;
  readonly files: string[];
}

function setup(argv: string[]): Setup {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'fingerprint-key': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) throw new UsageExit();
  const config = values.config !== undefined ? loadConfig({ file: values.config, flags: {} }) : undefined;
  const key = values['fingerprint-key'] ?? process.env.GATEWATCH_FINGERPRINT_KEY ?? config?.fingerprintKey ?? undefined;
  return {
    anomaly: config?.anomaly ?? parseAnomalyConfig({}),
    fingerprint: key ? createFingerprinter(key) : undefined,
    files: positionals.length > 0 ? positionals : ['-'],
  };
}

class UsageExit extends Error {}

function write(out: Writable, text: string): Promise<void> {
  return out.write(text) ? Promise.resolve() : new Promise((resolve) => out.once('drain', resolve));
}

export async function runReplay(argv: string[], io: ReplayIo): Promise<number> {
  let s: Setup;
  try {
    s = setup(argv);
  } catch (e) {
    if (e instanceof UsageExit) {
      io.stdout.write(USAGE);
      return 0;
    }
    io.stderr.write(`gatewatch replay: ${(e as Error).message}\n${isGatewatchError(e) ? '' : USAGE}`);
    return 2;
  }
  const store = new MemoryStore(REPLAY_STORE);
  let detectors: Detector[];
  try {
    detectors = createAnomalyDetectors({ config: s.anomaly, store });
  } catch (e) {
    io.stderr.write(`gatewatch replay: ${(e as Error).message}\n`);
    return 2;
  }
  const stats = { records: 0, skipped: 0, alerts: 0, outOfOrder: 0, first: Infinity, last: -Infinity };
  for (const file of s.files) {
    const input = file === '-' ? io.stdin : createReadStream(file, 'utf8');
    const lines = createInterface({ input, crlfDelay: Infinity });
    let lineNo = 0;
    try {
      for await (const line of lines) {
        lineNo++;
        if (line.trim() === '') continue;
        let record;
        try {
          record = parseRecord(line, s.fingerprint);
        } catch (e) {
          if (!(e instanceof RecordError)) throw e;
          stats.skipped++;
          io.stderr.write(`gatewatch replay: ${file === '-' ? 'stdin' : file}:${lineNo}: skipped: ${e.message}\n`);
          continue;
        }
        stats.records++;
        if (record.time < stats.last) stats.outOfOrder++;
        stats.first = Math.min(stats.first, record.time);
        stats.last = Math.max(stats.last, record.time);
        const ctx = { now: record.time };
        for (const d of detectors) {
          for (const finding of await d.detect(record.exchange, ctx)) {
            stats.alerts++;
            await write(io.stdout, JSON.stringify(buildAlert(finding, record.exchange, record.time)) + '\n');
          }
        }
      }
    } catch (e) {
      io.stderr.write(`gatewatch replay: cannot read ${file === '-' ? 'stdin' : file}: ${(e as Error).message}\n`);
      await store.close();
      return 1;
    }
  }
  await store.close();
  const range = stats.records > 0 ? ` from ${new Date(stats.first).toISOString()} to ${new Date(stats.last).toISOString()}` : '';
  io.stderr.write(
    `gatewatch replay: ${stats.records} records${range}, ${stats.alerts} alerts, ${stats.skipped} lines skipped` +
      (stats.outOfOrder > 0 ? `, ${stats.outOfOrder} records earlier than the one before (input should be in time order)` : '') +
      '\n',
  );
  return 0;
}
