const ESCAPE = /[&<>"']/g;
function escapeHTML(s) { return String(s).replace(ESCAPE, (c) => `&#${c.charCodeAt(0)};`); }
// Astro's runtime tells Node.js by process's type tag, and then answers with an async
// iterable body (a Node.js stream), else with a ReadableStream.
const isNode = typeof process !== "undefined" && Object.prototype.toString.call(process) === "[object process]";
async function renderPage(manifest, request) {
  const route = manifest.pageMap.get("src/pages/index.astro");
  const page = await route();
  const html = `<!DOCTYPE html>${await page.default(escapeHTML)}`;
  const bytes = new TextEncoder().encode(html);
  const body = isNode
    ? (async function* () { yield bytes; })()
    : new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } });
  return new Response(body, { headers: { "content-type": "text/html" } });
}
export { renderPage as a, escapeHTML as e };
