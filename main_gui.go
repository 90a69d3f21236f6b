//go:build !nogui

package main

import (
	"time"

	"github.com/tapline/tapline/app/desktop"
)

func runDesktop(args []string, started time.Time) int { return desktop.Run(args, started) }
