import { json, text } from "@sveltejs/kit";
import { HttpError, Redirect } from "@sveltejs/kit/internal";
import * as devalue from "devalue";
import { parse, serialize } from "cookie";
class Server {
  constructor(manifest) { this.manifest = manifest; }
  async init({ env }) { this.env = env; }
  async respond(request) { return text(devalue.stringify({ ok: true })); }
}
export { Server };
