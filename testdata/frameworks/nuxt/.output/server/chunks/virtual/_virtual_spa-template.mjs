const template = (path) => `<!DOCTYPE html><html><body><div id="__nuxt">Nuxt ${path}</div></body></html>`;
export { template as t };
