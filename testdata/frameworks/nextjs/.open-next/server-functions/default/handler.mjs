import {setInterval, clearInterval, setTimeout, clearTimeout} from "node:timers"
import {createRequire as topLevelCreateRequire} from "node:module";
const require = topLevelCreateRequire(import.meta.url);
const message = 'Cannot find module: import { getCloudflareContext } from "@opennextjs/cloudflare"';
export async function handler(request, env, ctx) { return new Response("next"); }
