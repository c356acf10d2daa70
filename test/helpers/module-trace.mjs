// `node --import ./test/helpers/module-trace.mjs …` appends the URL of every module the process
// imports (ES modules and CommonJS files) to the file named by MODULE_TRACE_FILE, one per line.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.MODULE_TRACE_FILE;
if (file) {
  register(new URL('./module-trace-hooks.mjs', import.meta.url), { data: { file } });
  const compile = Module.prototype._compile;
  Module.prototype._compile = function traced(content, filename) {
    appendFileSync(file, `${pathToFileURL(filename).href}\n`);
    return compile.call(this, content, filename);
  };
}
