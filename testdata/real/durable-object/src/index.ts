import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
	async increment(): Promise<number> {
		const value = ((await this.ctx.storage.get<number>("value")) ?? 0) + 1;
		await this.ctx.storage.put("value", value);
		return value;
	}
}

interface Env {
	COUNTER: DurableObjectNamespace<Counter>;
}

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const stub = env.COUNTER.get(env.COUNTER.idFromName("one"));
		return new Response(String(await stub.increment()));
	},
};
