//go:build !linux

package cli

import (
	"os"
	"testing"
)

// openPTY: the terminal prompt tests drive a Linux pseudo-terminal; on other
// systems they do not apply (the prompt itself is golang.org/x/term's).
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	t.Skip("the terminal prompt tests use a Linux pseudo-terminal")
	return nil, nil
}

func echoOn(*testing.T, *os.File) bool { return false }
