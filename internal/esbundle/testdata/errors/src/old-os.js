import os from "node:os";
export default { fetch: () => new Response(os.platform()) };
