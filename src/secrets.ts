// Secrets in connector settings (provider tokens, API keys, inbound passwords, signing secrets, SMTP
// passwords): a field is declared secret where its schema is written (`secret(z.string()…)`), and every
// answer that shows stored settings passes them through the masker built from that schema. A secret is
// stored as given and never answered after it is saved; Tandem-generated secrets (webhook signing
// secrets) are shown once, by the route that creates them.
import { z } from 'zod';

export const SECRET_MASK = '••••';

/** 'value': the whole string is secret; 'url-password': only the password of a URL (smtp://user:pass@host). */
export type SecretKind = 'value' | 'url-password';

const secrets = z.registry<{ secret: SecretKind }>();

/** Marks a schema as holding a secret; returns the same schema. */
export function secret<T extends z.ZodType>(schema: T, kind: SecretKind = 'value'): T {
  secrets.add(schema, { secret: kind });
  return schema;
}

/**
 * Names that hold secrets whatever the schema says: settings stored before a field was declared, or
 * keys outside any schema, are masked too.
 */
const SECRET_NAME = /secret|token|passw|api_?key|private_?key|signing_?key|credential/i;

type Plan = Map<string, SecretKind>;

interface Def { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType>; options?: z.ZodType[]; element?: z.ZodType; left?: z.ZodType; right?: z.ZodType }

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The paths of the declared secrets in a schema ("inbound.postmark.password", "url", "items[].token"). */
function collect(schema: z.ZodType, path: string, plan: Plan, depth = 0): void {
  if (depth > 20) return;
  const marked = secrets.get(schema);
  if (marked) {
    plan.set(path, marked.secret);
    return;
  }
  const def = defOf(schema);
  const next = (s: z.ZodType | undefined, p = path) => s && collect(s, p, plan, depth + 1);
  switch (def.type) {
    case 'object':
      for (const [key, field] of Object.entries(def.shape ?? {})) next(field, path ? `${path}.${key}` : key);
      break;
    case 'union':
      for (const option of def.options ?? []) next(option);
      break;
    case 'intersection':
      next(def.left);
      next(def.right);
      break;
    case 'array':
      next(def.element, `${path}[]`);
      break;
    case 'pipe':
      next(def.in);
      break;
    default:
      next(def.innerType);
  }
}

/** A URL with its password (if any) masked: the host stays readable. */
export function maskUrlPassword(value: string): string {
  try {
    const url = new URL(value);
    if (!url.password) return value;
    // The mask itself would be percent-encoded by the URL setter.
    url.password = 'x';
    return url.href.replace(':x@', `:${SECRET_MASK}@`);
  } catch {
    return SECRET_MASK;
  }
}

function maskValue(value: unknown, path: string, plan: Plan, depth: number): unknown {
  if (depth > 20) return SECRET_MASK;
  if (Array.isArray(value)) return value.map((v) => maskValue(v, `${path}[]`, plan, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const p = path ? `${path}.${key}` : key;
    const kind = plan.get(p) ?? (SECRET_NAME.test(key) && v !== null && v !== undefined ? 'value' : undefined);
    if (kind === 'url-password' && typeof v === 'string') out[key] = maskUrlPassword(v);
    else if (kind) out[key] = SECRET_MASK;
    else out[key] = maskValue(v, p, plan, depth + 1);
  }
  return out;
}

/** A function that masks the secrets of settings shaped like these schemas (and any secret-named key). */
export function secretMasker(...schemas: z.ZodType[]): <T>(value: T) => T {
  const plan: Plan = new Map();
  for (const s of schemas) collect(s, '', plan);
  return <T>(value: T): T => maskValue(value, '', plan, 0) as T;
}

/** The declared secret paths of a schema (for tests and docs). */
export function secretPaths(...schemas: z.ZodType[]): string[] {
  const plan: Plan = new Map();
  for (const s of schemas) collect(s, '', plan);
  return [...plan.keys()].sort();
}
