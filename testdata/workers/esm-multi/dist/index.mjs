// src/index.ts
import { formatGreeting } from "./lib/util.mjs";
import legacy from "./legacy.cjs";
import addModule from "./add.wasm";
import greeting from "./greeting.txt";
var addInstance = new WebAssembly.Instance(addModule);
var src_default = {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const a = Number(url.searchParams.get("a") ?? 2);
    const b = Number(url.searchParams.get("b") ?? 3);
    const sum = addInstance.exports.add(a, b);
    return new Response(`${formatGreeting(greeting)} ${legacy.describe(a, b, sum)}
`, {
      headers: { "content-type": "text/plain; charset=utf-8" }
    });
  }
};
export {
  src_default as default
};
//# sourceMappingURL=index.mjs.map
