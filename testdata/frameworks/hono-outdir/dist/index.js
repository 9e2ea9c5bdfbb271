// node_modules/hono/dist/compose.js
var compose = (middleware, onError, onNotFound) => {
  return (context, next) => {
    let index = -1;
    return dispatch(0);
    async function dispatch(i) {
      if (i <= index) {
        throw new Error("next() called multiple times");
      }
      index = i;
      const handler = middleware[i]?.[0];
      return handler ? handler(context, () => dispatch(i + 1)) : next?.();
    }
  };
};
// node_modules/hono/dist/utils/url.js
var splitPath = (path) => {
  const paths = path.split("/");
  if (paths[0] === "") {
    paths.shift();
  }
  return paths;
};
var tryDecode = (str, decoder) => {
  try {
    return decoder(str);
  } catch {
    return str.replace(/(?:%[0-9A-Fa-f]{2})+/g, (match) => {
      try { return decoder(match); } catch { return match; }
    });
  }
};
// src/index.ts
var app = { fetch: (req) => new Response(`Hello Hono! ${splitPath(new URL(req.url).pathname).length}`) };
var src_default = app;
export {
  src_default as default
};
//# sourceMappingURL=index.js.map
