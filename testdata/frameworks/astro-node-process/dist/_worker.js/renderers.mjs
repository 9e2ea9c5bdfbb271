export { r as renderers } from './chunks/_@astro-renderers_DpxeDnSh.mjs';
