import { t as template } from '../virtual/_virtual_spa-template.mjs';
const renderer = (request) => new Response(template(new URL(request.url).pathname), { headers: { "content-type": "text/html;charset=utf-8" } });
export { renderer as default };
