import { formatGreeting } from "./lib/util";
import legacy from "../legacy.cjs";
import addModule from "./add.wasm";
import greeting from "./greeting.txt";

const addInstance = new WebAssembly.Instance(addModule);

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const a = Number(url.searchParams.get("a") ?? 2);
    const b = Number(url.searchParams.get("b") ?? 3);
    const sum = (addInstance.exports.add as (x: number, y: number) => number)(a, b);
    return new Response(`${formatGreeting(greeting)} ${legacy.describe(a, b, sum)}\n`, {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },
} satisfies ExportedHandler;
