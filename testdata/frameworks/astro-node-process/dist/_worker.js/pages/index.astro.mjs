import { e as escapeHTML } from '../chunks/astro/server_ayzMwmTg.mjs';
const page = async (escape) => `<html><head><link rel="stylesheet" href="/_astro/index.Bx3kQ9.css"></head><body><h1>${escapeHTML("Astro")}</h1></body></html>`;
export { page as default };
