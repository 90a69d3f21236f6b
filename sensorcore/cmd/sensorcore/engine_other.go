//go:build !linux

package main

// hardenEngine: the engine's process hardening is Linux's.
func hardenEngine() error { return nil }
