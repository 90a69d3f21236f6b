package main

import (
	"fmt"
	"io"
)

// Provisioning commands; built by the appliance issue.
func notYet(name string) func([]string, io.Writer, io.Writer) int {
	return func(_ []string, _, stderr io.Writer) int {
		fmt.Fprintf(stderr, "sensorcore: %s: not built yet\n", name)
		return 2
	}
}

var (
	cmdServe    = notYet("serve")
	cmdApply    = notYet("apply")
	cmdConfirm  = notYet("confirm")
	cmdRollback = notYet("rollback")
	cmdStatus   = notYet("status")
	cmdSanity   = notYet("sanity")
	cmdNetwork  = notYet("network")
)
