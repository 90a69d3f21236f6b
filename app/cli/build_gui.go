//go:build !nogui

package cli

// buildKind names this build in 'tapline version': the desktop app and the
// CLI in one binary.
const buildKind = "desktop"
