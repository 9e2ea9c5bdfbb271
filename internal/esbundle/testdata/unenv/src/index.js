import { platform } from "node:os";
import { Buffer } from "buffer";

export default {
	async fetch() {
		return new Response(`${platform()} ${Buffer.from("ok").toString("hex")} ${typeof process}`);
	},
};
