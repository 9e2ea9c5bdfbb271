import { AsyncLocalStorage } from "node:async_hooks";
import process from "node:process";
const cloudflareContextALS = new AsyncLocalStorage();
export function runWithCloudflareRequestContext(request, env, ctx, handler) {
    return cloudflareContextALS.run({ env, ctx, cf: request.cf }, handler);
}
