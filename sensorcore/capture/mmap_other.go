//go:build !unix

package capture

import "os"

func mapFile(f *os.File) ([]byte, func() error, bool) { return nil, nil, false }

func release([]byte) {}
