import { Server } from "./../output/server/index.js";
import { manifest, prerendered, base_path } from "./../cloudflare-tmp/manifest.js";
import * as Cache from "worktop/cfw.cache";

const server = new Server(manifest);
const app_path = `/${manifest.appPath}`;
const immutable = `${app_path}/immutable/`;

var worker_default = {
  async fetch(req, env, ctx) {
    await server.init({ env });
    let pragma = req.headers.get("cache-control") || "";
    let res = !pragma.includes("no-cache") && await Cache.lookup(req);
    if (res) return res;
    let { pathname } = new URL(req.url);
    if (pathname.startsWith(immutable)) return env.ASSETS.fetch(req);
    return server.respond(req, { platform: { env, ctx } });
  }
};
export { worker_default as default };
