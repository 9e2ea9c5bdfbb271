import helper from "./helper";
export default { fetch: () => new Response(helper) };
