import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { EventEmitter } from "events";

export default {
	async fetch(request: Request): Promise<Response> {
		const body = Buffer.from("hello").toString("base64");
		const digest = createHash("sha256").update("hello").digest("hex");
		const emitter = new EventEmitter();
		let seen = "";
		emitter.on("x", (v: string) => (seen = v));
		emitter.emit("x", "emitted");
		return Response.json({ body, digest, seen, path: new URL(request.url).pathname });
	},
};
