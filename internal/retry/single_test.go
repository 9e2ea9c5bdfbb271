package retry_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientsKeepNoRetryEngineOfTheirOwn fails when the code of a client
// (tests aside) reads a Retry-After header or waits on a timer itself: the
// header parser and the context-aware sleep live in this package only, so a
// second copy of either in a client is a retry engine coming back.
func TestClientsKeepNoRetryEngineOfTheirOwn(t *testing.T) {
	t.Parallel()
	timers := map[string]bool{"NewTimer": true, "After": true, "Sleep": true, "NewTicker": true, "Tick": true, "AfterFunc": true}
	for _, dir := range []string{"../cloudflare", "../github"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files, dir)
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, 0)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind != token.STRING {
						return true
					}
					if s, err := strconv.Unquote(n.Value); err == nil && strings.Contains(strings.ToLower(s), "retry-after") {
						assert.Fail(t, "a client reads Retry-After itself", "%s: %s; use retry.After", fset.Position(n.Pos()), n.Value)
					}
				case *ast.SelectorExpr:
					if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && timers[n.Sel.Name] {
						assert.Fail(t, "a client waits on its own", "%s: time.%s; use the retry core's Sleep", fset.Position(n.Pos()), n.Sel.Name)
					}
				}
				return true
			})
		}
	}
}
