//go:build !unix

package inventory

import "os"

func readManufFile(path string) ([]byte, error) { return os.ReadFile(path) }
