import { x } from "not-installed";
export default { fetch: () => new Response(x) };
