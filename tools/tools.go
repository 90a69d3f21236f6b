//go:build tools

// Package tools is a separate module that pins the developer tools Tapline's
// Makefile runs, so their dependencies never enter the main module's go.mod:
// the fyne CLI (fyne.io/tools/cmd/fyne, added with
// `go get -tool fyne.io/tools/cmd/fyne@v1.7.0`): `make package` builds it
// into bin/fyne; `cd tools && go tool fyne` runs it directly.
package tools
