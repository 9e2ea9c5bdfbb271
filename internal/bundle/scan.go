package bundle

import "bytes"

// Import is one module specifier found in JavaScript source by ScanImports.
type Import struct {
	// Specifier is the string literal's value (escape sequences are kept as written;
	// specifiers with escapes are vanishingly rare and still compare as text).
	Specifier string
	// Dynamic is true for import("…"), false for import … from "…", import "…" and
	// export … from "…".
	Dynamic bool
	// Offset is the byte offset of the specifier's opening quote.
	Offset int
}

// ScanImports returns the module specifiers of the static import declarations,
// the export-from declarations and the dynamic import() calls with a string
// literal argument in JavaScript source, in source order.
//
// It is a small hand-written lexer, not a parser: it skips string literals,
// comments, template literals (with nested ${…} expressions) and regular
// expression literals well enough for build output, where a wrong guess about
// "/" (division or regex?) is confined to one line because neither a regex nor a
// quoted string may span lines. It never fails; text it cannot make sense of is
// skipped. Keep callers behind this one function: another scanner (esbuild's)
// can replace it without touching them.
func ScanImports(src []byte) []Import {
	s := scanner{src: src}
	s.run()
	return s.out
}

type scanner struct {
	src []byte
	out []Import
	// regexOK is true where a "/" starts a regular expression rather than a division.
	regexOK bool
	// braces is the stack of template-literal nesting: each entry is the brace depth at
	// which a ${ … } expression returns to its template.
	braces []int
	depth  int
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// keywordsBeforeExpression are the keywords after which "/" starts a regex.
var keywordsBeforeExpression = map[string]bool{
	"return": true, "typeof": true, "instanceof": true, "in": true, "of": true, "new": true,
	"delete": true, "void": true, "throw": true, "case": true, "do": true, "else": true,
	"yield": true, "await": true, "extends": true,
}

func (s *scanner) run() {
	src := s.src
	s.regexOK = true
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			i = s.skipString(i)
			s.regexOK = false
		case c == '`':
			i = s.skipTemplate(i + 1)
			s.regexOK = false
		case c == '/':
			switch {
			case i+1 < len(src) && src[i+1] == '/':
				i = s.skipLineComment(i)
			case i+1 < len(src) && src[i+1] == '*':
				i = s.skipBlockComment(i)
			case s.regexOK:
				i = s.skipRegex(i + 1)
				s.regexOK = false
			default:
				i++
				s.regexOK = true
			}
		case c == '{':
			s.depth++
			i++
			s.regexOK = true
		case c == '}':
			if n := len(s.braces); n > 0 && s.braces[n-1] == s.depth {
				// The end of a ${ … } expression: back into the template.
				s.braces = s.braces[:n-1]
				s.depth--
				i = s.skipTemplate(i + 1)
				s.regexOK = false
				continue
			}
			if s.depth > 0 {
				s.depth--
			}
			i++
			// A block usually ends before a statement, which may start with a regex.
			s.regexOK = true
		case c == ')' || c == ']':
			i++
			s.regexOK = false
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdentPart(src[i]) || src[i] == '.') {
				i++
			}
			s.regexOK = false
		case isIdentStart(c) || c == '\\':
			start := i
			i++
			for i < len(src) && (isIdentPart(src[i]) || src[i] == '\\') {
				i++
			}
			word := string(src[start:i])
			s.regexOK = keywordsBeforeExpression[word]
			if (word == "import" || word == "export") && !s.afterDot(start) {
				i = s.declaration(word, i)
			}
		case c == '.':
			i++
			s.regexOK = false
			if i < len(src) && src[i] >= '0' && src[i] <= '9' {
				for i < len(src) && isIdentPart(src[i]) {
					i++
				}
			}
		case c == '#':
			// A private name (#x) or a hashbang: skip the identifier so "#import" is no keyword.
			i++
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			s.regexOK = false
		default:
			i++
			s.regexOK = true
		}
	}
}

// afterDot reports whether the identifier at start is a property name (x.import, x?.import).
func (s *scanner) afterDot(start int) bool {
	j := start - 1
	for j >= 0 && (s.src[j] == ' ' || s.src[j] == '\t' || s.src[j] == '\n' || s.src[j] == '\r') {
		j--
	}
	return j >= 0 && s.src[j] == '.' && (j == 0 || s.src[j-1] != '.') // "...import(…)" is a spread, not a property
}

// skipSpace skips white space and comments from i and returns the next index.
func (s *scanner) skipSpace(i int) int {
	src := s.src
	for i < len(src) {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			i = s.skipLineComment(i)
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			i = s.skipBlockComment(i)
		default:
			return i
		}
	}
	return i
}

// stringAt reads a quoted string literal at i: its content and the index after it.
func (s *scanner) stringAt(i int) (string, int, bool) {
	if i >= len(s.src) || (s.src[i] != '"' && s.src[i] != '\'') {
		return "", i, false
	}
	end := s.skipString(i)
	if end-1 <= i || s.src[end-1] != s.src[i] {
		return "", end, false // unterminated
	}
	return string(s.src[i+1 : end-1]), end, true
}

// declaration looks at what follows `import` or `export` (ending at i) and records a
// specifier. It returns where the main loop continues: after the specifier when one was
// found, else i (the clause is lexed normally).
func (s *scanner) declaration(word string, i int) int {
	src := s.src
	j := s.skipSpace(i)
	if j >= len(src) {
		return i
	}
	if word == "import" {
		switch src[j] {
		case '(':
			k := s.skipSpace(j + 1)
			if spec, end, ok := s.stringAt(k); ok {
				if e := s.skipSpace(end); e < len(src) && (src[e] == ')' || src[e] == ',') {
					s.out = append(s.out, Import{Specifier: spec, Dynamic: true, Offset: k})
				}
			}
			s.regexOK = true
			return i
		case '.':
			s.regexOK = false
			return i // import.meta
		case '"', '\'':
			spec, end, ok := s.stringAt(j)
			if ok {
				s.out = append(s.out, Import{Specifier: spec, Offset: j})
			}
			s.regexOK = false
			return end
		}
	} else if src[j] != '*' && src[j] != '{' {
		return i // export const …, export default …
	}
	// The clause: identifiers, "*", "{…}", ",", string names ({"a-b" as c}), then `from "…"`.
	for steps := 0; j < len(src) && steps < 4096; steps++ {
		c := src[j]
		switch {
		case c == '{' || c == '}' || c == ',' || c == '*':
			j++
		case c == '"' || c == '\'':
			_, end, ok := s.stringAt(j)
			if !ok {
				return i
			}
			j = end
		case isIdentStart(c):
			start := j
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			if string(src[start:j]) == "from" {
				k := s.skipSpace(j)
				if spec, end, ok := s.stringAt(k); ok {
					s.out = append(s.out, Import{Specifier: spec, Offset: k})
					s.regexOK = false
					return end
				}
				if k < len(src) && isIdentStart(src[k]) {
					// "from" was a binding name (import from from "x"): go on.
					j = k
					continue
				}
				return i
			}
		default:
			return i // not a declaration with a specifier (export { a }; or a syntax we do not know)
		}
		j = s.skipSpace(j)
	}
	return i
}

// skipString returns the index after the string literal starting at i (a quote). An
// unescaped line break ends it (strings cannot span lines), bounding a misparse.
func (s *scanner) skipString(i int) int {
	src := s.src
	q := src[i]
	i++
	// Build output holds long string literals (inlined data): find the quote with
	// IndexByte and only then look for escapes and line breaks before it.
	for i < len(src) {
		end := bytes.IndexByte(src[i:], q)
		seg := src[i:]
		if end >= 0 {
			seg = src[i : i+end]
		}
		nl := bytes.IndexByte(seg, '\n')
		bs := bytes.IndexByte(seg, '\\')
		switch {
		case nl >= 0 && (bs < 0 || nl < bs):
			return i + nl
		case bs >= 0:
			i += bs + 2
		case end >= 0:
			return i + end + 1
		default:
			return len(src)
		}
	}
	return len(src)
}

// skipTemplate skips template text from i (after "`" or the "}" of a substitution) to the
// closing "`" (returns the index after it) or a "${" (pushes the substitution and returns
// the index after "${").
func (s *scanner) skipTemplate(i int) int {
	src := s.src
	for i < len(src) {
		switch src[i] {
		case '`':
			return i + 1
		case '\\':
			i += 2
		case '$':
			if i+1 < len(src) && src[i+1] == '{' {
				s.depth++
				s.braces = append(s.braces, s.depth)
				s.regexOK = true
				return i + 2
			}
			i++
		default:
			i++
		}
	}
	return len(src)
}

func (s *scanner) skipLineComment(i int) int {
	for i < len(s.src) && s.src[i] != '\n' {
		i++
	}
	return i
}

func (s *scanner) skipBlockComment(i int) int {
	for i += 2; i+1 < len(s.src); i++ {
		if s.src[i] == '*' && s.src[i+1] == '/' {
			return i + 2
		}
	}
	return len(s.src)
}

// skipRegex skips a regular expression literal body from i (after "/"), with its classes
// and flags. A line break ends it (a regex cannot span lines).
func (s *scanner) skipRegex(i int) int {
	src := s.src
	inClass := false
	for i < len(src) {
		switch src[i] {
		case '\\':
			i += 2
			continue
		case '\n':
			return i
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '/':
			if !inClass {
				i++
				for i < len(src) && isIdentPart(src[i]) {
					i++
				}
				return i
			}
		}
		i++
	}
	return len(src)
}
