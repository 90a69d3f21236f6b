//go:build tools

// Package tools is a separate module that pins the developer tools Tapline's
// Makefile runs, so their dependencies never enter the main module's go.mod:
// the fyne CLI (fyne.io/tools/cmd/fyne, `make package`), run as
// `go tool -modfile=tools/go.mod fyne`.
package tools
