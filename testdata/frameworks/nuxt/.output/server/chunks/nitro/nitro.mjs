import { AsyncLocalStorage } from 'node:async_hooks';
const asyncContext = new AsyncLocalStorage();
function useNitroApp() { return { hooks: {}, h3App: {} }; }
async function requestHandler(app, request, ctx) {
  const { default: renderer } = await import('../routes/renderer.mjs');
  return asyncContext.run(ctx, () => renderer(request));
}
export { useNitroApp as a, requestHandler as r };
//# sourceMappingURL=nitro.mjs.map
