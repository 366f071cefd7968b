import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// A small reader and runner for our Dockerfile, so its stages can be checked
// and replayed without a container engine: each stage gets its own directory
// as "/", WORKDIR becomes a directory in it, COPY copies from the context or
// from an earlier stage, and RUN runs with sh in the working directory.
// It handles the instructions our Dockerfile uses and refuses any other.

export interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  readonly args: Map<string, string>;
  readonly stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i]!.trim();
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot read "${line}"`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new Error(`Dockerfile line ${start + 1}: bad FROM`);
      stages.push({ from: expand(f[1]!, args), name: f[2], instructions: [] });
    } else if (stages.length === 0) {
      if (op !== 'ARG') throw new Error(`Dockerfile line ${start + 1}: ${op} before FROM`);
      const [k, v] = rest.split('=', 2);
      args.set(k!, v ?? '');
    } else {
      stages.at(-1)!.instructions.push({ op, args: rest, line: start + 1 });
    }
  }
  return { args, stages };
}

function expand(value: string, args: Map<string, string>): string {
  return value.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
}

/**
 * Builds the stages into `root/<stage index>/`, running RUN steps for real.
 * Stages that do not depend on each other (COPY --from) run side by side, as
 * BuildKit runs them. Returns each stage's root.
 */
export async function replayStages(df: Dockerfile, context: string, root: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const roots = df.stages.map((_, index) => join(root, String(index)));
  const indexOf = (name: string, line: number) => {
    const i = df.stages.findIndex((s) => s.name === name);
    if (i < 0) throw new Error(`Dockerfile line ${line}: unknown stage ${name}`);
    return i;
  };
  const done = new Map<number, Promise<void>>();
  const build = (index: number): Promise<void> => {
    let p = done.get(index);
    if (!p) {
      const stage = df.stages[index]!;
      const deps = stage.instructions.flatMap((i) => {
        const from = i.op === 'COPY' ? /--from=(\S+)/.exec(i.args)?.[1] : undefined;
        return from === undefined ? [] : [indexOf(from, i.line)];
      });
      p = Promise.all(deps.map(build)).then(() => replayStage(df, index, context, roots, env));
      done.set(index, p);
    }
    return p;
  };
  await build(df.stages.length - 1);
  return roots;
}

async function replayStage(df: Dockerfile, index: number, context: string, roots: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const stage = df.stages[index]!;
  const stageRoot = roots[index]!;
  mkdirSync(stageRoot, { recursive: true });
  let workdir = '/';
  const inStage = (p: string) => join(stageRoot, posix.resolve(workdir, p));
  for (const ins of stage.instructions) {
    switch (ins.op) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, ins.args);
        mkdirSync(inStage('.'), { recursive: true });
        break;
      case 'COPY': {
        const words = ins.args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        const dest = paths.pop()!;
        const sourceRoot = from === undefined ? context : roots[df.stages.findIndex((s) => s.name === from)]!;
        const destIsDir = dest.endsWith('/') || dest === '.' || paths.length > 1;
        for (const src of paths) {
          const source = join(sourceRoot, src);
          // A directory's contents go into the destination, as in Docker.
          const target = statSync(source).isDirectory() || !destIsDir ? inStage(dest) : join(inStage(dest), posix.basename(src));
          mkdirSync(dirname(target), { recursive: true });
          if (from === undefined) {
            cpSync(source, target, { recursive: true });
          } else if (statSync(source).isDirectory()) {
            // Between stages, hard links: the same tree as a copy, without copying 160 MB of modules.
            mkdirSync(target, { recursive: true });
            await run('cp', ['-al', `${source}/.`, `${target}/`], {});
          } else {
            await run('cp', ['-al', source, target], {});
          }
        }
        break;
      }
      case 'RUN':
        try {
          // --mount options (BuildKit cache mounts) live outside the image; the caller's env gives npm its cache.
          await run('sh', ['-ec', ins.args.replace(/^(--mount=\S+\s+)+/, '')], { cwd: inStage('.'), env, maxBuffer: 64 * 1024 * 1024 });
        } catch (e) {
          const err = e as { stdout?: string; stderr?: string };
          const output = `${err.stdout ?? ''}${err.stderr ?? ''}`.slice(-4000);
          throw new Error(`Dockerfile line ${ins.line}: RUN failed:\n${output}`);
        }
        break;
      case 'ARG':
      case 'ENV':
      case 'LABEL':
      case 'USER':
      case 'EXPOSE':
      case 'ENTRYPOINT':
      case 'CMD':
        break; // metadata: checked by the tests, nothing to build
      default:
        throw new Error(`Dockerfile line ${ins.line}: ${ins.op} is not handled by the replay`);
    }
  }
}
