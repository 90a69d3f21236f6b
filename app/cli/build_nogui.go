//go:build nogui

package cli

// buildKind names this build in 'tapline version': the CLI only (-tags
// nogui, no cgo).
const buildKind = "headless"
