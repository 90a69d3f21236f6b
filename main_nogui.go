//go:build nogui

package main

import (
	"fmt"
	"os"
	"time"
)

func runDesktop([]string, time.Time) int {
	fmt.Fprintln(os.Stderr, "tapline: this build has no desktop app (built with -tags nogui); run 'tapline help' for the commands")
	return 2
}
