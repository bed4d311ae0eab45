package oauthproxy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every exported field of Config has a row in docs/configuration.md, so a
// new option cannot ship undocumented.
func TestDocs_ConfigurationListsEveryConfigField(t *testing.T) {
	doc, err := os.ReadFile("docs/configuration.md")
	require.NoError(t, err)
	f, err := parser.ParseFile(token.NewFileSet(), "options.go", nil, 0)
	require.NoError(t, err)
	var fields []string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Config" {
			return true
		}
		for _, fld := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range fld.Names {
				if name.IsExported() {
					fields = append(fields, name.Name)
				}
			}
		}
		return false
	})
	require.NotEmpty(t, fields, "Config's fields were found in options.go")
	for _, name := range fields {
		assert.True(t, strings.Contains(string(doc), "`"+name+"`"), "docs/configuration.md has no row for Config.%s", name)
	}
}
