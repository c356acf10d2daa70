// The benchmarks' command line: `--name` flags and `--name N` numbers.
const args = process.argv.slice(2);

export const flag = (name: string): boolean => args.includes(`--${name}`);

export const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
