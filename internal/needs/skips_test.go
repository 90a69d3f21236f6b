package needs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSkipsGoThroughNeeds reads every Go file of the module and fails on a
// t.Skip (b.Skip, tb.Skipf...) that is about something missing on the
// machine (a tool, root, a file, a platform facility) instead of going
// through this package, so CI=true turns it into a failure; and on a skip
// that does not say why. Skips that are legitimately conditional stay:
// -short, runtime.GOOS, a helper process or opt-in run named by an
// environment variable, Windows under Wine.
func TestSkipsGoThroughNeeds(t *testing.T) {
	root := RepoRoot(t)
	var bad []string
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".") || d.Name() == "bin") {
				return filepath.SkipDir
			}
			// Another module (tools/go.mod) is not this module's tests.
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if filepath.ToSlash(rel) == "internal/needs/needs.go" {
			return nil // the one place that may skip for a missing dependency
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, v := range scanSkips(filepath.ToSlash(rel), src) {
			bad = append(bad, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read only %d Go files under %s: the walk is broken", files, root)
	}
	if len(bad) > 0 {
		t.Errorf("%d skip(s) outside internal/needs; a test that lacks a tool, root, an input or a platform facility "+
			"calls needs.Missing, needs.Root, needs.Tool or needs.SparseFile (skip on a developer's machine, fail under CI=true), "+
			"and every other skip says why:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

// TestScanSkips holds the scanner itself to what it must find and what it
// must leave alone.
func TestScanSkips(t *testing.T) {
	flagged := map[string]string{
		"LookPath":    `if _, err := exec.LookPath("tshark"); err != nil { t.Skip("no tshark") }`,
		"Geteuid":     `if os.Geteuid() != 0 { t.Skip("not privileged") }`,
		"Stat":        `if _, err := os.Stat(p); err != nil { t.Skipf("no %s", p) }`,
		"message":     `if err != nil { t.Skipf("needs openssl: %v", err) }`,
		"here":        `if err := os.Link(a, b); err != nil { t.Skip("no hard links here") }`,
		"no X":        `if len(files) == 0 { b.Skip("no Modbus captures") }`,
		"no reason":   `if x { t.SkipNow() }`,
		"empty":       `if x { t.Skip() }`,
		"CI":          `if os.Getenv("CI") != "true" { t.Skip("needs root") }`,
		"short+tool":  `if testing.Short() || !haveTool { t.Skip("needs the tool") }`,
		"benchmark":   `if _, err := exec.LookPath("scp"); err != nil { b.Skip("compares with scp") }`,
		"helper func": `t.Skipf("needs "+what, args...)`,
	}
	for name, body := range flagged {
		src := "package p\nfunc f() {\n" + body + "\n}\n"
		if got := scanSkips("x_test.go", []byte(src)); len(got) != 1 {
			t.Errorf("%s: %q gave %q, want one finding", name, body, got)
		}
	}
	allowed := map[string]string{
		"short":      `if testing.Short() { t.Skip("builds the GUI binary (cgo); not with -short") }`,
		"goos":       `if runtime.GOOS != "linux" { t.Skip("needs /proc, which only Linux has") }`,
		"switch":     `switch runtime.GOOS { case "windows": t.Skip("Windows links are another kind of file") }`,
		"helper":     `if os.Getenv("SENSORCORE_TEST_STRANGER") != "1" { t.Skip("helper process for TestX") }`,
		"wine":       `if filemode.UnderWine() { t.Skip("running under Wine, which keeps no ACLs: needs real Windows") }`,
		"opt-in":     `exe := os.Getenv("TAPLINE_WINE_CLI"); if exe == "" { t.Skip("runs from tools/wine-test.sh") }`,
		"other":      `p.SkipAnswer(); s.SkipASN1(tag); return filepath.SkipDir`,
		"needs":      `needs.Missing(t, "needs tshark")`,
		"short+goos": `if testing.Short() || runtime.GOOS == "windows" { t.Skip("slow; and Windows has no such facility") }`,
	}
	for name, body := range allowed {
		src := "package p\nfunc f() {\n" + body + "\n}\n"
		if got := scanSkips("x_test.go", []byte(src)); len(got) != 0 {
			t.Errorf("%s: %q gave %q, want none", name, body, got)
		}
	}
}

// probes are the calls that look at the machine: a skip under a condition
// that makes one is about something missing.
var probes = map[string]bool{
	"LookPath": true, "Geteuid": true, "Getuid": true, "Stat": true, "Lstat": true,
	"ReadFile": true, "ReadDir": true, "Glob": true, "UserHomeDir": true, "Truncate": true,
	"Current": true, "Open": true, "OpenFile": true, "Symlink": true, "Link": true,
}

// missingWords are how a skip's message says that something is missing.
var missingWords = regexp.MustCompile(`(?i)^\s*no\b|\bneeds?\b|\binstall|\bmissing\b|not found|no such|\broot\b|\brequires?\b|\bavailable\b|\bhere\b|\bthis (host|machine)\b|\bsupport`)

// scanSkips returns one line per skip in src that breaks the rule.
func scanSkips(name string, src []byte) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var out []string
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Skip" && sel.Sel.Name != "Skipf" && sel.Sel.Name != "SkipNow") {
			return true
		}
		if why := judgeSkip(call, stack); why != "" {
			out = append(out, fmt.Sprintf("%s: %s", fset.Position(call.Pos()), why))
		}
		return true
	})
	return out
}

// judgeSkip says what is wrong with the skip call whose ancestors are
// stack ("" when nothing).
func judgeSkip(call *ast.CallExpr, stack []ast.Node) string {
	if len(call.Args) == 0 {
		return "a skip that does not say why"
	}
	var msg strings.Builder
	for _, a := range call.Args {
		ast.Inspect(a, func(n ast.Node) bool {
			if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING {
				s, _ := strconv.Unquote(l.Value)
				msg.WriteString(s + " ")
			}
			return true
		})
	}
	var leaves, inits []ast.Expr
	for i := len(stack) - 2; i >= 0; i-- {
		child := stack[i+1]
		switch s := stack[i].(type) {
		case *ast.IfStmt:
			if child == s.Body || child == s.Else {
				leaves = append(leaves, splitCond(s.Cond)...)
				if as, ok := s.Init.(*ast.AssignStmt); ok {
					inits = append(inits, as.Rhs...)
				}
			}
		case *ast.CaseClause:
			leaves = append(leaves, s.List...)
		case *ast.SwitchStmt:
			if s.Tag != nil {
				leaves = append(leaves, s.Tag)
			}
		case *ast.FuncDecl, *ast.FuncLit:
			i = -1 // conditions outside the function do not hold inside it
		}
	}
	probed := false
	for _, e := range append(append([]ast.Expr(nil), leaves...), inits...) {
		if callsProbe(e) {
			probed = true
		}
	}
	legit := len(leaves) > 0
	for _, l := range leaves {
		if !legitCond(l) {
			legit = false
		}
	}
	switch {
	case probed:
		return "skips when a probe of the machine fails (LookPath, Geteuid, Stat...): use needs.Tool, needs.Root or needs.Missing"
	case legit:
		return ""
	case missingWords.MatchString(msg.String()):
		return fmt.Sprintf("skips for something missing (%q): use needs.Missing, needs.Root or needs.Tool", strings.TrimSpace(msg.String()))
	}
	return ""
}

// splitCond splits a condition at && and || (and !) into its leaves.
func splitCond(e ast.Expr) []ast.Expr {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return splitCond(x.X)
	case *ast.UnaryExpr:
		if x.Op == token.NOT {
			return splitCond(x.X)
		}
	case *ast.BinaryExpr:
		if x.Op == token.LAND || x.Op == token.LOR {
			return append(splitCond(x.X), splitCond(x.Y)...)
		}
	}
	return []ast.Expr{e}
}

func callsProbe(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if s, ok := c.Fun.(*ast.SelectorExpr); ok && probes[s.Sel.Name] {
				found = true
			}
		}
		return !found
	})
	return found
}

// legitCond reports whether a condition leaf is one a skip may rest on:
// testing.Short(), runtime.GOOS or GOARCH, an environment variable other
// than CI (a helper process, an opt-in run), Wine.
func legitCond(e ast.Expr) bool {
	if callsProbe(e) {
		return false
	}
	ok := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			if id, isID := x.X.(*ast.Ident); isID {
				switch {
				case id.Name == "testing" && x.Sel.Name == "Short",
					id.Name == "runtime" && (x.Sel.Name == "GOOS" || x.Sel.Name == "GOARCH"):
					ok = true
				}
			}
			if strings.Contains(x.Sel.Name, "Wine") {
				ok = true
			}
		case *ast.Ident:
			if strings.Contains(x.Name, "Wine") || strings.Contains(x.Name, "wine") {
				ok = true
			}
		case *ast.CallExpr:
			if s, isSel := x.Fun.(*ast.SelectorExpr); isSel && s.Sel.Name == "Getenv" && len(x.Args) == 1 {
				if l, isLit := x.Args[0].(*ast.BasicLit); isLit && l.Value != `"CI"` {
					ok = true
				}
			}
		}
		return true
	})
	return ok
}
