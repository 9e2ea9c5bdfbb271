const ESCAPE = /[&<>"']/g;
function escapeHTML(s) { return String(s).replace(ESCAPE, (c) => `&#${c.charCodeAt(0)};`); }
async function renderPage(manifest, request) {
  const route = manifest.pageMap.get("src/pages/index.astro");
  const page = await route();
  return new Response(`<!DOCTYPE html>${await page.default(escapeHTML)}`, { headers: { "content-type": "text/html" } });
}
export { renderPage as a, escapeHTML as e };
