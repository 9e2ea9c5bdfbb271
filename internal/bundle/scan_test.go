package bundle

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func specs(imps []Import) []string {
	var out []string
	for _, im := range imps {
		s := im.Specifier
		if im.Dynamic {
			s = "dyn:" + s
		}
		out = append(out, s)
	}
	return out
}

func TestScanImports(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"default import", `import x from "./a.js";`, []string{"./a.js"}},
		{"named, minified", `import{a as b,c}from"./chunks/c.mjs";export{b}`, []string{"./chunks/c.mjs"}},
		{"namespace", `import * as n from './n.js'`, []string{"./n.js"}},
		{"side effect", `import "./polyfill.js"; import'./p2.js'`, []string{"./polyfill.js", "./p2.js"}},
		{"default and named", `import x, { y } from "hono"`, []string{"hono"}},
		{"string names", `import { "a-b" as c } from "./x.js"`, []string{"./x.js"}},
		{"export star", `export * from "./all.js"; export * as ns from "./ns.js"`, []string{"./all.js", "./ns.js"}},
		{"export named from", "export {\n  a,\n  b as c\n} from \"./e.js\"", []string{"./e.js"}},
		{"local export", `export { a, b }; export const c = 1; export default function () {}`, nil},
		{"dynamic", `const m = await import("./lazy.js"); import(variable)`, []string{"dyn:./lazy.js"}},
		{"dynamic with options", `import("./j.json", { with: { type: "json" } })`, []string{"dyn:./j.json"}},
		{"dynamic concatenation is not literal", `import("./a" + x)`, nil},
		{"import.meta", `const u = import.meta.url; import x from "./y.js"`, []string{"./y.js"}},
		{"property named import", `obj.import("./no.js"); a = { import: 1 }; b?.import`, nil},
		{"in a string", `const s = "import x from './no.js'"; const t = 'export * from "./no.js"'`, nil},
		{"in comments", "// import x from './no.js'\n/* import './no2.js' */ import y from './yes.js'", []string{"./yes.js"}},
		{"in a template", "const t = `import x from './no.js' ${ a }`; import './yes.js'", []string{"./yes.js"}},
		{"template substitution holds an import", "const t = `a ${ await import('./in.js') } b`;", []string{"dyn:./in.js"}},
		{"nested templates and braces", "`${ {a: `${`x`}`}.a } import './no.js'`; import './yes.js'", []string{"./yes.js"}},
		{"regex with quote and slash", `const r = /["'\/]import "x"/g; import './yes.js'`, []string{"./yes.js"}},
		{"regex with class", `x = /[/"]/.test(s); import './yes.js'`, []string{"./yes.js"}},
		{"division is not a regex", `a = b / c; d = e / f; import './yes.js'`, []string{"./yes.js"}},
		{"division after paren", `a = (b) / 2 / "q"; import './yes.js'`, []string{"./yes.js"}},
		{"return regex", `function f(){return /'/.test(x)} import './yes.js'`, []string{"./yes.js"}},
		{"from as a binding", `import from from "./f.js"`, []string{"./f.js"}},
		{"hashbang and private name", "#!/usr/bin/env node\nclass A { #import = 1 }\nimport './yes.js'", []string{"./yes.js"}},
		{"unterminated string confined to its line", "const s = \"abc\nimport './yes.js'", []string{"./yes.js"}},
		{"bare and scheme", `import { DurableObject } from "cloudflare:workers"; import fs from "node:fs"; import b from "buffer"`, []string{"cloudflare:workers", "node:fs", "buffer"}},
		{"identifier containing import", `const reimport = 1; myimport("./no.js"); import_("x")`, nil},
		{"escaped quote in string", `const s = 'it\'s'; import "./yes.js"`, []string{"./yes.js"}},
		{"unterminated template", "`abc ${ import('./in.js')", []string{"dyn:./in.js"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, specs(ScanImports([]byte(tt.src))))
		})
	}
}

func TestScanImportsOffsets(t *testing.T) {
	src := `import a from "./a.js"; export * from './b.js'`
	for _, im := range ScanImports([]byte(src)) {
		assert.Equal(t, src[im.Offset+1:im.Offset+1+len(im.Specifier)], im.Specifier)
		assert.Contains(t, `"'`, string(src[im.Offset]))
	}
}

func FuzzScanImports(f *testing.F) {
	for _, s := range []string{
		`import x from "./a.js"`, `export * from './b.js'`, "`${`${'x'}`}` import('./c.js')",
		`a = /[/]"/; import "./d.js"`, "/* unterminated", "'unterminated", "`unterminated ${", "}}}{{{",
		`import{a}from"b"`, `import.meta`, "#!x\nimport 'y'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		imps := ScanImports([]byte(src))
		last := -1
		for _, im := range imps {
			if im.Offset <= last || im.Offset >= len(src) {
				t.Fatalf("offset %d out of order or range (last %d, len %d)", im.Offset, last, len(src))
			}
			last = im.Offset
			if q := src[im.Offset]; q != '"' && q != '\'' {
				t.Fatalf("offset %d is not a quote: %q", im.Offset, q)
			}
			if !strings.HasPrefix(src[im.Offset+1:], im.Specifier) {
				t.Fatalf("specifier %q is not at offset %d", im.Specifier, im.Offset)
			}
			if strings.ContainsRune(im.Specifier, '\n') {
				t.Fatalf("specifier %q spans lines", im.Specifier)
			}
		}
	})
}
