package certs

// ReadFileLimit is ReadFile with another bound, so tests need not read
// MaxFileSize bytes.
var ReadFileLimit = readFileLimit
