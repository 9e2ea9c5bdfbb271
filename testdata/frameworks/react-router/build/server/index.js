import { default as default2 } from "./assets/worker-entry-DoAwTvwy.js";
export {
  default2 as default
};
