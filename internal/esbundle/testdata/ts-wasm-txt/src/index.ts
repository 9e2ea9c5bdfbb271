import addModule from "./add.wasm";
import greeting from "./greeting.txt";
import page from "./page.html";

interface Env {
	NAME?: string;
}

const instance = new WebAssembly.Instance(addModule);
const add = instance.exports.add as (a: number, b: number) => number;

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const url = new URL(request.url);
		if (url.pathname === "/add") {
			return new Response(String(add(2, 40)));
		}
		if (url.pathname === "/page") {
			return new Response(page, { headers: { "content-type": "text/html" } });
		}
		return new Response(`${greeting.trim()}, ${env.NAME ?? "world"}`);
	},
} satisfies ExportedHandler<Env>;
