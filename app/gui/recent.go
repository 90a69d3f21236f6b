package gui

import (
	"slices"

	"fyne.io/fyne/v2"
)

// The app remembers recent hosts and folders, never a secret.
const (
	prefRecentHosts  = "recent.hosts"  // host:port of sensors signed in to
	prefRecentFolder = "recent.folder" // the folder of the last file opened
	maxRecent        = 10
)

// rememberHost puts addr first in the recent hosts.
func rememberHost(p fyne.Preferences, addr string) {
	if p == nil || addr == "" {
		return
	}
	list := slices.DeleteFunc(p.StringList(prefRecentHosts), func(s string) bool { return s == addr })
	list = append([]string{addr}, list...)
	if len(list) > maxRecent {
		list = list[:maxRecent]
	}
	p.SetStringList(prefRecentHosts, list)
}

// recentHosts lists the remembered hosts, newest first.
func recentHosts(p fyne.Preferences) []string {
	if p == nil {
		return nil
	}
	return p.StringList(prefRecentHosts)
}
