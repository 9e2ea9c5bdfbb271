const renderers = [];
export { renderers as r };
