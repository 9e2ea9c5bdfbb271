import { Hono } from "hono";
import addModule from "./add.wasm";
import greeting from "./greeting.txt";

type Bindings = { NAME?: string };

const add = new WebAssembly.Instance(addModule).exports.add as (a: number, b: number) => number;

const app = new Hono<{ Bindings: Bindings }>();
app.get("/", (c) => c.text(`${greeting.trim()}, ${c.env.NAME ?? "world"}`));
app.get("/add/:a/:b", (c) => c.json({ sum: add(Number(c.req.param("a")), Number(c.req.param("b"))) }));
app.notFound((c) => c.text("nope", 404));

export default app;
