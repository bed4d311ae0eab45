package oauthproxy_test

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every Go block in README.md, docs/*.md and the package overview (doc.go)
// is a copy of code that compiles and runs in the test suite, so the docs
// cannot drift from the code:
//
//   - In Markdown, the line before each ```go block is a marker
//     <!-- snippet: REF -->.
//   - In doc.go, the text line before each code block ends with "(REF):".
//
// In docs/*.md a block may instead be an excerpt, <!-- snippet-lines: REF
// -->: each of its lines stands, in order, in REF's source.
//
// REF is a file ("examples/quickstart/main.go": the block is the whole
// file) or a function, "ExampleName" in this directory or "dir/FuncName"
// in another ("mcpauth/Example"): the block is its body. A block from a
// function may open with import declarations, so a reader sees where the
// names come from; each must be an import of the function's file. Blocks
// and sources are compared after expanding leading tabs to four spaces and
// removing the common indentation. go test -run TestDocSnippets
// -update-snippets rewrites the blocks from their sources.
var updateSnippets = flag.Bool("update-snippets", false, "rewrite the docs' Go blocks from their sources")

var (
	markdownSnippet = regexp.MustCompile("(?m)^<!-- snippet: ([^ ]+) -->\n```go\n((?s:.*?))```\n")
	markdownExcerpt = regexp.MustCompile("(?m)^<!-- snippet-lines: ([^ ]+) -->\n```go\n((?s:.*?))```\n")
	markdownGoBlock = regexp.MustCompile("(?m)^```go\n")
	markdownMarker  = regexp.MustCompile(`^<!-- snippet(-lines)?: [^ ]+ -->$`)
	docCodeRef      = regexp.MustCompile(`\(([\w./]+)\):$`)
)

func TestDocSnippets_Markdown(t *testing.T) {
	files, err := filepath.Glob("docs/*.md")
	require.NoError(t, err)
	for _, file := range append([]string{"README.md"}, files...) {
		t.Run(file, func(t *testing.T) {
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			text := string(src)
			requireMarkers(t, file, text)
			for _, m := range markdownExcerpt.FindAllStringSubmatch(text, -1) {
				want, imports := snippetSource(t, m[1])
				requireLinesInOrder(t, splitImports(t, m[1], m[2], imports), want)
			}
			var out strings.Builder
			last := 0
			for _, m := range markdownSnippet.FindAllStringSubmatchIndex(text, -1) {
				ref, block := text[m[2]:m[3]], text[m[4]:m[5]]
				want, imports := snippetSource(t, ref)
				code := splitImports(t, ref, block, imports)
				assert.Equal(t, normaliseCode(want), normaliseCode(code), "%s: the block marked %s differs from its source", file, ref)
				out.WriteString(text[last : m[5]-len(code)])
				out.WriteString(indentCode(want, "    "))
				last = m[5]
			}
			out.WriteString(text[last:])
			if *updateSnippets && out.String() != text {
				require.NoError(t, os.WriteFile(file, []byte(out.String()), 0o644))
			}
		})
	}
}

func TestDocSnippets_PackageOverview(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	lines := strings.Split(string(src), "\n")
	var out []string
	blocks := 0
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "//\t") {
			out = append(out, lines[i])
			continue
		}
		j := i
		for j < len(lines) && (strings.HasPrefix(lines[j], "//\t") || lines[j] == "//" && j+1 < len(lines) && strings.HasPrefix(lines[j+1], "//\t")) {
			j++
		}
		blocks++
		// The text line before the blank line that opens the block names its source.
		require.GreaterOrEqual(t, i, 2)
		m := docCodeRef.FindStringSubmatch(lines[i-2])
		require.NotNil(t, m, "doc.go:%d: the line before this code block must end with (REF): %q", i+1, lines[i-2])
		var block strings.Builder
		for _, l := range lines[i:j] {
			block.WriteString(strings.TrimPrefix(strings.TrimPrefix(l, "//"), "\t") + "\n")
		}
		want, _ := snippetSource(t, m[1])
		assert.Equal(t, normaliseCode(want), normaliseCode(block.String()), "doc.go:%d: the block from %s differs from its source", i+1, m[1])
		for _, l := range strings.Split(strings.TrimRight(indentCode(want, "\t"), "\n"), "\n") {
			out = append(out, strings.TrimRight("//"+l, " \t"))
		}
		i = j - 1
	}
	require.Positive(t, blocks, "doc.go has no code block")
	if *updateSnippets {
		require.NoError(t, os.WriteFile("doc.go", []byte(strings.Join(out, "\n")), 0o644))
	}
}

// requireMarkers checks that the line before every ```go block in file
// names the block's source, so a new block cannot go unchecked; excerpts
// are for docs/*.md only.
func requireMarkers(t *testing.T, file, text string) {
	t.Helper()
	for _, at := range markdownGoBlock.FindAllStringIndex(text, -1) {
		before := strings.TrimSuffix(text[:at[0]], "\n")
		marker := markdownMarker.FindStringSubmatch(before[strings.LastIndex(before, "\n")+1:])
		line := strings.Count(text[:at[0]], "\n") + 1
		if assert.NotNil(t, marker, "%s:%d: this ```go block needs a <!-- snippet: REF --> or <!-- snippet-lines: REF --> line before it", file, line) && file == "README.md" {
			assert.Empty(t, marker[1], "%s:%d: README.md shows whole snippets, not excerpts", file, line)
		}
	}
}

// snippetSource is the code REF names: a whole .go file, or the body of a
// function (see TestDocSnippets_Markdown). For a function it also returns
// the imports of its file, as "path" or "name path".
func snippetSource(t *testing.T, ref string) (code string, imports []string) {
	t.Helper()
	if strings.HasSuffix(ref, ".go") {
		src, err := os.ReadFile(ref)
		require.NoError(t, err, "snippet %s", ref)
		return string(src), nil
	}
	dir, name := filepath.Split(ref)
	if dir == "" {
		dir = "."
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Name.Name != name || fn.Body == nil {
				continue
			}
			lbrace, rbrace := fset.Position(fn.Body.Lbrace).Offset, fset.Position(fn.Body.Rbrace).Offset
			body := string(src[lbrace+1 : rbrace])
			// An example's output comment is what it prints, not what a reader copies.
			if i := strings.Index(body, "\n\t// Output:"); i >= 0 {
				body = body[:i+1]
			}
			for _, spec := range f.Imports {
				imports = append(imports, importName(spec))
			}
			return body, imports
		}
	}
	t.Fatalf("snippet %s: no function %s in %s", ref, name, dir)
	return "", nil
}

// splitImports checks the import declarations a block from REF opens with
// against imports, the imports of REF's file, and returns the rest of the
// block.
func splitImports(t *testing.T, ref, block string, imports []string) string {
	t.Helper()
	const header = "package p\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", header+block, parser.ImportsOnly)
	if err != nil || len(f.Imports) == 0 {
		return block // no import declarations to check
	}
	require.NotNil(t, imports, "block from %s: import declarations go only with a function's body", ref)
	for _, spec := range f.Imports {
		assert.Contains(t, imports, importName(spec), "block from %s: the file of %[1]s does not have this import", ref)
	}
	// ImportsOnly stops after the imports, so the last declaration is the
	// last import; the code starts on a later line.
	rest := block[fset.Position(f.Decls[len(f.Decls)-1].End()).Offset-len(header):]
	_, rest, _ = strings.Cut(rest, "\n")
	return strings.TrimLeft(rest, "\n")
}

// importName is spec as a block writes it: "path", or "name path" when the
// file names the package.
func importName(spec *ast.ImportSpec) string {
	if spec.Name == nil {
		return spec.Path.Value
	}
	return spec.Name.Name + " " + spec.Path.Value
}

// normaliseCode expands leading tabs to four spaces, removes trailing space,
// the common indentation and blank lines at either end.
func normaliseCode(code string) string {
	lines := strings.Split(code, "\n")
	common := -1
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		trimmed := strings.TrimLeft(l, "\t")
		l = strings.Repeat("    ", len(l)-len(trimmed)) + trimmed
		lines[i] = l
		if l == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			lines[i] = l[common:]
		}
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// indentCode is code with its common indentation replaced by tabs rendered as
// unit (four spaces for Markdown, a tab for doc comments), ending in a newline.
func indentCode(code, unit string) string {
	var b strings.Builder
	for _, l := range strings.Split(normaliseCode(code), "\n") {
		trimmed := strings.TrimLeft(l, " ")
		depth := (len(l) - len(trimmed)) / 4
		if unit == "\t" {
			b.WriteString("\t")
		}
		if trimmed != "" {
			b.WriteString(strings.Repeat(unit, depth) + trimmed)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// requireLinesInOrder checks that every line of block stands, in order, in
// source.
func requireLinesInOrder(t *testing.T, block, source string) {
	t.Helper()
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.Index(source, line)
		require.GreaterOrEqual(t, i, 0, "line %q is not in its source (or not in order)", line)
		source = source[i+len(line):]
	}
}
