package exitcode

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoBareExitCodes: the commands and app.Run use the named codes, never
// a bare number, in os.Exit and in app.Run's returns.
func TestNoBareExitCodes(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../cmd/*/*.go")
	require.NoError(t, err)
	app, err := filepath.Glob("../app/*.go")
	require.NoError(t, err)
	files = append(files, app...)
	checked := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Exit" && len(n.Args) == 1 {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" {
						checked++
						_, bare := n.Args[0].(*ast.BasicLit)
						assert.False(t, bare, "%s: os.Exit with a bare number; use exitcode.Success or exitcode.Failure", path)
					}
				}
			case *ast.FuncDecl:
				if n.Name.Name != "Run" || n.Recv != nil || filepath.Base(filepath.Dir(path)) != "app" {
					return true
				}
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if r, ok := m.(*ast.ReturnStmt); ok && len(r.Results) == 1 {
						checked++
						_, bare := r.Results[0].(*ast.BasicLit)
						assert.False(t, bare, "%s: app.Run returns a bare number; use exitcode.Success or exitcode.Failure", path)
					}
					return !isFuncLit(m)
				})
			}
			return true
		})
	}
	assert.Greater(t, checked, 3, "the scan found the exits and returns")
}

func isFuncLit(n ast.Node) bool { _, ok := n.(*ast.FuncLit); return ok }

// TestCodes: the runner fails a step on any code but 0.
func TestCodes(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 0, Success)
	assert.NotEqual(t, Success, Failure)
}
