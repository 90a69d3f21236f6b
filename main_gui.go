//go:build !nogui

package main

import (
	"time"

	"github.com/tapline/tapline/app/desktop"
	_ "github.com/tapline/tapline/app/desktop/locale" // before Fyne's lang package: no "Error parsing user locale C"
)

func runDesktop(args []string, started time.Time) int { return desktop.Run(args, started) }
