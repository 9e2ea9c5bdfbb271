import { runtime, shout } from "tiny-pkg";
import data from "tiny-pkg/data.bin";

export default {
	async fetch() {
		const mode = typeof __MODE__ !== "undefined" ? __MODE__ : process.env.NODE_ENV;
		return new Response(`${shout("hi")} from ${runtime} (${new Uint8Array(data).length} bytes, ${mode})`);
	},
};
