import { parseArgs } from 'node:util';
import { listRules, loadCredentialRules, testRules } from '../detect/credentials/rules.js';
import { listExfiltrationRules, testExfiltrationRules } from '../detect/exfiltration/rules-cli.js';
import type { ScanIo } from './command.js';

// `gatewatch rules list` and `gatewatch rules test`: every rule pack under
// detectors/ (credentials, exfiltration), plus the user's rule directories.
// Test failures name the rule and the sample index, never the sample text.

const USAGE = 'usage: gatewatch rules list|test [--rules-dir DIR]... [--json]\n';

export async function runRulesCommand(argv: string[], io: ScanIo): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { 'rules-dir': { type: 'string', multiple: true, default: [] }, json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr.write(`gatewatch rules: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [sub] = args.positionals;
  const dirs = args.values['rules-dir'];
  const pack = loadCredentialRules(dirs);
  if (sub === 'list') {
    const credentials = listRules(pack);
    const exfiltration = listExfiltrationRules();
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify({ credentials, exfiltration })}\n`);
      return 0;
    }
    for (const r of credentials) io.stdout.write(`credential\t${r.id}\t${r.family}\t${r.provider}\t${r.severity}\t${r.title}\n`);
    for (const r of exfiltration) io.stdout.write(`exfiltration\t${r.id}\t${r.family}\t${r.lang}\tweight ${r.weight}\t${r.file}\n`);
    io.stdout.write(`${credentials.length} credential rules, ${exfiltration.length} exfiltration rules\n`);
    return 0;
  }
  if (sub === 'test') {
    const credentials = testRules(pack);
    const exfiltration = testExfiltrationRules();
    const failed = [
      ...credentials.filter((r) => !r.passed).map((r) => ({ kind: 'credential', id: r.rule, failures: r.failures })),
      ...exfiltration.filter((r) => !r.ok).map((r) => ({ kind: 'exfiltration', id: r.id, failures: r.failures })),
    ];
    if (args.values.json) io.stdout.write(`${JSON.stringify({ credentials, exfiltration })}\n`);
    else {
      for (const f of failed) io.stdout.write(`FAIL ${f.kind} ${f.id}: ${f.failures.join('; ')}\n`);
      io.stdout.write(`credential rules: ${credentials.length - failed.filter((f) => f.kind === 'credential').length}/${credentials.length} pass; `);
      io.stdout.write(`exfiltration rules: ${exfiltration.length - failed.filter((f) => f.kind === 'exfiltration').length}/${exfiltration.length} pass\n`);
    }
    return failed.length === 0 ? 0 : 1;
  }
  io.stderr.write(USAGE);
  return 2;
}
