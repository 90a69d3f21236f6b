// Package locale keeps Fyne's start-up from printing "Fyne error: Error
// parsing user locale C" (with a source path) on every run, app or
// command, on machines whose locale is C or POSIX, as plant laptops and
// build hosts often are: Fyne's lang package parses the locale while it
// initialises and cannot read "C".
//
// It does its work in init because it must run before that package's
// initialisation: it depends only on the standard library and its import
// path sorts before golang.org/x/text, on which Fyne's lang package
// depends, so Go initialises it first (Go spec, Package initialization).
// It changes nothing but an empty LANGUAGE, and only for C and POSIX.
package locale

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	if IsPOSIX(Effective(os.Getenv)) {
		os.Setenv("LANGUAGE", "en")
	}
}

// Effective is the locale that decides the language of messages: LC_ALL,
// else LC_MESSAGES, else LANG (POSIX, Locale environment variables).
func Effective(getenv func(string) string) string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// IsPOSIX reports whether loc is the C or POSIX locale, with or without an
// encoding or modifier (C.UTF-8, POSIX@euro).
func IsPOSIX(loc string) bool {
	if i := strings.IndexAny(loc, ".@"); i >= 0 {
		loc = loc[:i]
	}
	return loc == "C" || loc == "POSIX"
}
