package provision_test

import "os"

// maxRSSKiB: the batch benchmarks run on Linux only (OpenSSH, sh).
func maxRSSKiB(*os.ProcessState) int64 { return 0 }
