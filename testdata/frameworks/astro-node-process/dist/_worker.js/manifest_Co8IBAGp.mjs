import './chunks/astro-designed-error-pages_8cJNQBmB.mjs';
const manifest = { "adapterName": "@astrojs/cloudflare", "assets": ["/_astro/index.Bx3kQ9.css", "/favicon.svg"], "base": "/" };
export { manifest };
