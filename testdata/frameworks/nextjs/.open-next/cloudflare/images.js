export async function handleImageRequest(url, headers, env) { return env.ASSETS.fetch(url); }
