package bundle

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePatterns(t *testing.T) {
	t.Parallel()

	inc := func(raw, base, glob string) Pattern { return Pattern{Raw: raw, Base: base, Glob: glob} }
	lit := func(raw, base, glob, literal string) Pattern {
		return Pattern{Raw: raw, Base: base, Glob: glob, literal: literal}
	}
	exc := func(raw, base, glob string) Pattern { return Pattern{Raw: raw, Exclude: true, Base: base, Glob: glob} }

	cases := []struct {
		name  string
		input string
		want  []Pattern
	}{
		{name: "default", input: "dist/**", want: []Pattern{inc("dist/**", "dist", "dist/**")}},
		{name: "commas and spaces", input: " dist/**/*.mjs , dist/*.wasm,", want: []Pattern{
			inc("dist/**/*.mjs", "dist", "dist/**/*.mjs"), inc("dist/*.wasm", "dist", "dist/*.wasm"),
		}},
		{name: "newlines with CRLF and blank lines", input: "dist/**\r\n\r\n  !dist/**/*.map\r\n", want: []Pattern{
			inc("dist/**", "dist", "dist/**"), exc("!dist/**/*.map", "dist", "dist/**/*.map"),
		}},
		{name: "comma inside braces is alternation", input: "dist/*.{js,mjs},out/{a,b}/**", want: []Pattern{
			inc("dist/*.{js,mjs}", "dist", "dist/*.{js,mjs}"), inc("out/{a,b}/**", "out", "out/{a,b}/**"),
		}},
		{name: "comma inside class and escaped comma", input: `dist/[,x].js,dist/a\,b.js`, want: []Pattern{
			inc("dist/[,x].js", "dist", "dist/[,x].js"), lit(`dist/a\,b.js`, "dist", `dist/a\,b.js`, "dist/a,b.js"),
		}},
		{name: "dot segments and dotdot inside", input: "./dist//./sub/../**", want: []Pattern{
			inc("./dist//./sub/../**", "dist", "dist/**"),
		}},
		{name: "no wildcard names one file", input: "build/worker.js", want: []Pattern{
			lit("build/worker.js", "build", "build/worker.js", "build/worker.js"),
		}},
		{name: "file at the root", input: "worker.mjs", want: []Pattern{lit("worker.mjs", "", "worker.mjs", "worker.mjs")}},
		{name: "wildcard at the root", input: "**/*.js", want: []Pattern{inc("**/*.js", "", "**/*.js")}},
		{name: "brace in first segment", input: "{dist,out}/*.js", want: []Pattern{inc("{dist,out}/*.js", "", "{dist,out}/*.js")}},
		{name: "hidden base given literally", input: ".output/server/**", want: []Pattern{
			inc(".output/server/**", ".output/server", ".output/server/**"),
		}},
		{name: "escaped brackets in a file name", input: `dist/\[id\].js`, want: []Pattern{
			lit(`dist/\[id\].js`, "dist", `dist/\[id\].js`, "dist/[id].js"),
		}},
		{name: "escaped bracket in the base", input: `out/\[lang\]/*.js`, want: []Pattern{
			inc(`out/\[lang\]/*.js`, "out/[lang]", `out/\[lang\]/*.js`),
		}},
		{name: "exclude with space after bang", input: "dist/**\n! dist/*.map", want: []Pattern{
			inc("dist/**", "dist", "dist/**"), exc("! dist/*.map", "dist", "dist/*.map"),
		}},
		{name: "exclude may point into node_modules", input: "**/*.js,!node_modules/**", want: []Pattern{
			inc("**/*.js", "", "**/*.js"), exc("!node_modules/**", "node_modules", "node_modules/**"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePatterns(tc.input)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParsePatternsErrors(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name     string
		input    string
		wantKind error
		wantMsg  []string
	}{
		{name: "empty", input: "", wantKind: ErrInvalidPattern, wantMsg: []string{`input "modules" is empty`}},
		{name: "only separators", input: " ,\n , ", wantKind: ErrInvalidPattern, wantMsg: []string{`input "modules" is empty`}},
		{name: "only excludes", input: "!dist/*.map", wantKind: ErrInvalidPattern, wantMsg: []string{`only exclude`}},
		{name: "bang alone", input: "dist/**,!", wantKind: ErrInvalidPattern, wantMsg: []string{`"!"`, `must be followed`}},
		{name: "absolute", input: "/home/runner/dist/**", wantKind: ErrInvalidPattern, wantMsg: []string{`"/home/runner/dist/**"`, "absolute"}},
		{name: "windows drive", input: "C:/dist/**", wantKind: ErrInvalidPattern, wantMsg: []string{`"C:/dist/**"`, "absolute"}},
		{name: "dotdot escapes", input: "../other/dist/**", wantKind: ErrOutsideWorkingDir, wantMsg: []string{`"../other/dist/**"`, "outside the working directory"}},
		{name: "dotdot escapes after cleaning", input: "dist/../../x.js", wantKind: ErrOutsideWorkingDir, wantMsg: []string{`"dist/../../x.js"`}},
		{name: "dotdot after wildcard", input: "dist/*/../x.js", wantKind: ErrInvalidPattern, wantMsg: []string{`"dist/*/../x.js"`, "after a segment with a wildcard"}},
		{name: "dotdot after a group with a slash", input: "{/}/..", wantKind: ErrInvalidPattern, wantMsg: []string{`"{/}/.."`, `"{…}" group`}},
		{name: "dotdot right after a group", input: "{a/x,c}/../b", wantKind: ErrInvalidPattern, wantMsg: []string{`"{…}" group`}},
		{name: "unclosed class", input: "dist/[ab", wantKind: ErrInvalidPattern, wantMsg: []string{`"dist/[ab"`, "not a valid doublestar glob"}},
		{name: "unclosed brace", input: "dist/{a", wantKind: ErrInvalidPattern, wantMsg: []string{`"dist/{a"`, "not a valid doublestar glob"}},
		{name: "windows separator", input: `dist\index.js`, wantKind: ErrInvalidPattern, wantMsg: []string{`"dist\\index.js"`, "backslash used as a path separator"}},
		{name: "trailing backslash", input: `dist\`, wantKind: ErrInvalidPattern, wantMsg: []string{"ends with a backslash"}},
		{name: "node_modules base", input: "node_modules/pkg/dist/**", wantKind: ErrInvalidPattern, wantMsg: []string{`"node_modules/pkg/dist/**"`, "never uploaded"}},
		{name: "git base", input: ".git/hooks/*.js", wantKind: ErrInvalidPattern, wantMsg: []string{`".git/hooks/*.js"`, "never uploaded"}},
		{name: "hidden literal file", input: "dist/.secret.js", wantKind: ErrInvalidPattern, wantMsg: []string{`"dist/.secret.js"`, "hidden file"}},
		{name: "working directory itself", input: "./", wantKind: ErrInvalidPattern, wantMsg: []string{`"./"`, `use "**"`}},
		{name: "several errors are all reported", input: "/abs/**\ndist/[", wantKind: ErrInvalidPattern, wantMsg: []string{`"/abs/**"`, `"dist/["`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePatterns(tc.input)
			require.Error(t, err)
			assert.Nil(t, got)
			assert.ErrorIs(t, err, tc.wantKind)
			var ie *InputError
			require.True(t, errors.As(err, &ie), "error %v is not an *InputError", err)
			assert.Equal(t, InputModules, ie.Input)
			assert.Contains(t, err.Error(), `"modules"`)
			for _, s := range tc.wantMsg {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestModuleName(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name    string
		base    string
		relPath string
		want    string
		wantErr bool
	}{
		{name: "below base", base: "dist", relPath: "dist/index.mjs", want: "index.mjs"},
		{name: "nested", base: "dist", relPath: "dist/lib/util.mjs", want: "lib/util.mjs"},
		{name: "deep base", base: ".output/server", relPath: ".output/server/chunks/a.mjs", want: "chunks/a.mjs"},
		{name: "empty base", base: "", relPath: "src/x.js", want: "src/x.js"},
		{name: "prefix is not a directory", base: "dist", relPath: "distant/x.js", wantErr: true},
		{name: "the base itself", base: "dist", relPath: "dist", wantErr: true},
		{name: "empty rest", base: "dist", relPath: "dist/", wantErr: true},
		{name: "empty path", base: "", relPath: "", wantErr: true},
		{name: "line break and workflow command", base: "dist", relPath: "dist/a\n::error title=X::spoofed\n.js", wantErr: true},
		{name: "bare carriage return", base: "dist", relPath: "dist/a\r::add-mask::x.js", wantErr: true},
		{name: "escape sequence", base: "", relPath: "a\x1b[2Jb.js", wantErr: true},
		{name: "line separator", base: "", relPath: "a\u2028b.js", wantErr: true},
		{name: "invalid UTF-8", base: "", relPath: "a\xffb.js", wantErr: true},
		{name: "colons are fine", base: "dist", relPath: "dist/::add-mask::x.js", want: "::add-mask::x.js"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := moduleName(tc.base, tc.relPath)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
