const routeModules = {};
async function loadChunk(chunk) {
  // The client manifest lists modules by URL; they are fetched, never imported here.
  return `<link rel="modulepreload" href="${chunk.module}"/>`;
}
const requestHandler = async (request, env) => {
  const build = await import("./server-build-B40WrdNo.js");
  return build.handle(request, env, loadChunk);
};
const workerEntry = {
  async fetch(request, env, ctx) {
    return requestHandler(request, { cloudflare: { env, ctx } });
  }
};
export { workerEntry as default };
