package errs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	errorsv1 "github.com/spackmon/spackmon/proto/spackmon/errors/v1"
)

// The table and the enum of errors.proto hold the same reasons: a reason a service answers
// with is one a gRPC client can look up, and a declared one has a status.
func TestTableIsTheDeclaredReasons(t *testing.T) {
	for r := range table {
		if v, ok := errorsv1.Reason_value[string(r)]; !ok || v == 0 {
			t.Errorf("reason %s is in the table but not declared in errors.proto", r)
		}
	}
	for name, v := range errorsv1.Reason_value {
		if _, ok := table[Reason(name)]; !ok && v != 0 {
			t.Errorf("reason %s is declared in errors.proto but has no gRPC code and HTTP status in the table", name)
		}
	}
}

// No code of the repository makes a reason from a string of its own: every reason it uses
// is one of the declared ones. Tests may, to see what an undeclared one does.
func TestCodeUsesOnlyDeclaredReasons(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, ".pb.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		for _, lit := range reasonLiterals(f) {
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return err
			}
			if _, ok := errorsv1.Reason_value[s]; !ok {
				t.Errorf("%s: reason %q is not declared in errors.proto", fset.Position(lit.Pos()), s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read %d Go files under %s, expected the whole repository", files, root)
	}
}

// reasonLiterals are the string literals f turns into a reason: Reason("X") and
// errs.Reason("X") conversions, and Reason: "X" fields of Error literals.
func reasonLiterals(f *ast.File) []*ast.BasicLit {
	var out []*ast.BasicLit
	named := func(e ast.Expr, name string) bool {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name == name
		case *ast.SelectorExpr:
			return x.Sel.Name == name
		}
		return false
	}
	stringLit := func(e ast.Expr) *ast.BasicLit {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			return lit
		}
		return nil
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if len(x.Args) == 1 && named(x.Fun, "Reason") && stringLit(x.Args[0]) != nil {
				out = append(out, stringLit(x.Args[0]))
			}
		case *ast.CompositeLit:
			if !named(x.Type, "Error") {
				return true
			}
			for _, e := range x.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok && named(kv.Key, "Reason") && stringLit(kv.Value) != nil {
					out = append(out, stringLit(kv.Value))
				}
			}
		}
		return true
	})
	return out
}
