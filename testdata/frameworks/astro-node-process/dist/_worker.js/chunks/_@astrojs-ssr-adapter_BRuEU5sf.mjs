import { env } from 'cloudflare:workers';
import { AsyncLocalStorage } from 'node:async_hooks';
import { a as renderPage } from './astro/server_ayzMwmTg.mjs';
const storage = new AsyncLocalStorage();
function createExports(manifest) {
  return { default: { async fetch(request, e, ctx) {
    const url = new URL(request.url);
    if (manifest.assets && url.pathname.startsWith('/_astro/')) return e.ASSETS.fetch(request);
    return storage.run({ env, ctx }, () => renderPage(manifest, request));
  } } };
}
const serverEntrypointModule = "@astrojs/cloudflare/entrypoints/server.js";
export { createExports as c, serverEntrypointModule as s };
