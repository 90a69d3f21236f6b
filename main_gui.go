//go:build !nogui

package main

import "github.com/tapline/tapline/app/desktop"

func runDesktop() int { return desktop.Run(nil) }
