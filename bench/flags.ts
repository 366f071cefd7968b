/** A benchmark's `--name N` from the command line, or `fallback` when it is not given. */
export function numberFlag(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (argv[i + 1] === undefined || !Number.isFinite(value)) throw new Error(`--${name} takes a number, not ${JSON.stringify(argv[i + 1] ?? '')}`);
  return value;
}
