package citations

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// trackedFiles lists the text files git tracks (falls back to a walk when
// git is unavailable).
func trackedFiles(t *testing.T, root string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch filepath.Ext(f) {
		case ".go", ".md", ".ipynb", ".sh", ".txt":
			files = append(files, f)
		}
	}
	return files
}

func TestTheoryCitationsResolve(t *testing.T) {
	root := repoRoot(t)
	theory, err := os.ReadFile(filepath.Join(root, "docs", "theory.md"))
	if err != nil {
		t.Fatal(err)
	}
	eqs := map[string]bool{}
	for _, m := range regexp.MustCompile(`\\tag\{(\d+)\}`).FindAllStringSubmatch(string(theory), -1) {
		eqs[m[1]] = true
	}
	secs := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,3} (\d+(?:\.\d+)?)\.? `).FindAllStringSubmatch(string(theory), -1) {
		secs[m[1]] = true
	}
	if len(eqs) < 100 || len(secs) < 20 {
		t.Fatalf("docs/theory.md: found %d numbered equations and %d sections; the patterns no longer match its layout", len(eqs), len(secs))
	}
	eqRe := regexp.MustCompile(`theory eqs?\. (\d+)((?:\s*(?:,|–|-|and)\s*\d+)*)`)
	numRe := regexp.MustCompile(`\d+`)
	secRe := regexp.MustCompile(`theory §(\d+(?:\.\d+)?)`)
	// Built from parts so that this file does not itself match the pattern.
	outside := regexp.MustCompile(`SPEC (Eq|§|Table)|` + `shared` + `/paper|\.\./` + `shared`)
	n := 0
	for _, f := range trackedFiles(t, root) {
		if f == "docs/theory.md" || strings.HasPrefix(f, "internal/citations/") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		s := string(b)
		for _, m := range eqRe.FindAllStringSubmatch(s, -1) {
			for _, num := range numRe.FindAllString(m[1]+m[2], -1) {
				n++
				if !eqs[num] {
					t.Errorf("%s cites theory eq. %s, which docs/theory.md does not number", f, num)
				}
			}
		}
		for _, m := range secRe.FindAllStringSubmatch(s, -1) {
			n++
			if !secs[m[1]] {
				t.Errorf("%s cites theory §%s, which is not a section of docs/theory.md", f, m[1])
			}
		}
		if loc := outside.FindStringIndex(s); loc != nil {
			t.Errorf("%s cites a document outside the repository: %q", f, s[loc[0]:min(len(s), loc[1]+10)])
		}
	}
	if n < 50 {
		t.Errorf("only %d theory citations found in the repository", n)
	}
}
