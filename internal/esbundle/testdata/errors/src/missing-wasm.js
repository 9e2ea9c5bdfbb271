import mod from "./nothing.wasm";
export default { fetch: () => new Response(String(mod)) };
