const css = "/assets/root-DQUSok8F.css";
async function handle(request, ctx, preload) {
  const value = ctx.cloudflare.env.VALUE_FROM_CLOUDFLARE;
  return new Response(`<!DOCTYPE html><html><head><link rel="stylesheet" href="${css}"></head><body>${value} ${await preload({ module: "/assets/root-CbGQDrIp.js" })}</body></html>`, { headers: { "Content-Type": "text/html" } });
}
export { handle };
