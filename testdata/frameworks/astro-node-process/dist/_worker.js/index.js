globalThis.process ??= {}; globalThis.process.env ??= {};
import { r as renderers } from './chunks/_@astro-renderers_DpxeDnSh.mjs';
import { c as createExports, s as serverEntrypointModule } from './chunks/_@astrojs-ssr-adapter_BRuEU5sf.mjs';
import { manifest } from './manifest_Co8IBAGp.mjs';

const serverIslandMap = new Map();
const _page0 = () => import('./pages/_image.astro.mjs');
const _page1 = () => import('./pages/index.astro.mjs');
const pageMap = new Map([
    ["node_modules/astro/dist/assets/endpoint/generic.js", _page0],
    ["src/pages/index.astro", _page1]
]);
const _manifest = Object.assign(manifest, { pageMap, serverIslandMap, renderers });
const _exports = createExports(_manifest);
const __astrojsSsrVirtualEntry = _exports.default;
export { __astrojsSsrVirtualEntry as default, pageMap };
