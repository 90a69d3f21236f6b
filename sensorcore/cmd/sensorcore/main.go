// Command sensorcore is the appliance daemon and its command-line tools.
package main

import (
	"fmt"
	"os"
)

// version is sensorcore's release, set by the linker for packaged builds.
var version = "0.1.0-dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sensorcore serve|apply|confirm|rollback|status|sanity|network|analyze|inventory|alerts|version")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "version":
		fmt.Println("sensorcore", version)
	default:
		fmt.Fprintf(os.Stderr, "sensorcore: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}
