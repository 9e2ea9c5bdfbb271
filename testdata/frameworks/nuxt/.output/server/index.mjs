import { a as useNitroApp, r as requestHandler } from './chunks/nitro/nitro.mjs';
import 'node:async_hooks';
import 'cloudflare:workers';
import 'node:buffer';

const nitroApp = useNitroApp();
const index = {
  async fetch(request, env, context) {
    const url = new URL(request.url);
    if (env.ASSETS && url.pathname.startsWith("/_nuxt/")) {
      return env.ASSETS.fetch(request);
    }
    return requestHandler(nitroApp, request, { env, context });
  }
};

export { index as default };
//# sourceMappingURL=index.mjs.map
