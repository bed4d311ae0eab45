package oauthproxy_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var securityTestName = regexp.MustCompile(`TestSecurity_S\d\d_\w+`)

// TestSecurityDocListsEveryTest keeps SECURITY.md true: every security test in
// the module is listed under its requirement, and every listed test exists.
func TestSecurityDocListsEveryTest(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	require.NoError(t, err)
	listed := securityTestName.FindAllString(string(doc), -1)
	for _, name := range listed {
		req := name[len("TestSecurity_"):len("TestSecurity_S00")]
		assert.Contains(t, sectionOf(string(doc), name), "### "+req+":", "%s is listed under the wrong requirement", name)
	}

	var defined []string
	declared := regexp.MustCompile(`func (TestSecurity_S\d\d_\w+)\(`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range declared.FindAllStringSubmatch(string(src), -1) {
			defined = append(defined, m[1])
		}
		return nil
	})
	require.NoError(t, err)
	slices.Sort(listed)
	slices.Sort(defined)
	assert.Equal(t, slices.Compact(defined), slices.Compact(listed), "SECURITY.md and the TestSecurity_ tests differ")
	for i := 1; i <= 22; i++ {
		assert.Contains(t, string(doc), fmt.Sprintf("### S%02d:", i), "SECURITY.md lacks a section for S%02d", i)
	}
}

// sectionOf returns the "### SNN:" heading above the first mention of name.
func sectionOf(doc, name string) string {
	i := strings.Index(doc, name)
	j := strings.LastIndex(doc[:i], "### ")
	if j < 0 {
		return ""
	}
	return doc[j : j+len("### S00:")]
}
