export const manifest = { appPath: "_app" };
export const prerendered = new Set([]);
export const base_path = "";
