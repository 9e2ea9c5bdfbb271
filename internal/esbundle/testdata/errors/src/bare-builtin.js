import { Buffer } from "buffer";
export default { fetch: () => new Response(Buffer.from("x")) };
