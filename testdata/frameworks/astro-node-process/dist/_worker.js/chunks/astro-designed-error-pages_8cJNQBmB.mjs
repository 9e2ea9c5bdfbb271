const DEFAULT_404 = `<h1>404: Not found</h1>`;
export { DEFAULT_404 as D };
