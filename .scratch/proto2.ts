import { stringify, parseDocument } from 'yaml';
import { z } from 'zod';
const defaults = JSON.parse('{"__proto__": {"a": 1}, "x": 2}');
const y = stringify({ defaults }); console.log(y);
const v = parseDocument(y).toJS(); console.log(JSON.stringify(v), Object.getOwnPropertyNames(v.defaults), Object.getPrototypeOf(v.defaults));
const s = z.record(z.string(), z.unknown());
const r = s.parse(defaults); console.log(Object.getOwnPropertyNames(r), Object.getPrototypeOf(r));
const o = z.object({a: z.record(z.string(), z.unknown())}).parse({a: defaults}); console.log(Object.getOwnPropertyNames(o.a));
console.log(JSON.stringify(Object.fromEntries([['__proto__', 1]])));
