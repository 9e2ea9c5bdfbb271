import { Buffer } from "node:buffer";
export async function handler(request, env, ctx) { return request; }
