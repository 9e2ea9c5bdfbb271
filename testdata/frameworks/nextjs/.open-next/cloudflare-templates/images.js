import { error } from "@opennextjs/aws/adapters/logger.js";
export async function handleImageRequest(url, headers, env) { error("no image"); return env.ASSETS.fetch(url); }
