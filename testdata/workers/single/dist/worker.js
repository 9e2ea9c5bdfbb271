// src/worker.ts
var worker_default = {
  async fetch(request) {
    return new Response("ok from the single-module worker\n");
  }
};
export {
  worker_default as default
};
