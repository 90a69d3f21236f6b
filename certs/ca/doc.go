// Package ca is Tapline's offline certificate authority for the plant: a
// root (optionally with an intermediate) whose keys stay on the engineer's
// laptop, encrypted with a passphrase (PKCS#8 PBES2 AES-256, files 0600). It
// issues sensor server certificates that pass certs.CheckSensor with no error
// and no warning, revokes them, publishes CRLs and exports the files a sensor
// takes (.crt, .key, chain .pem, and PKCS#12 for other consumers).
//
// It refuses to issue wildcard names, certificates for more than one host,
// or anything but server certificates: it is not a general-purpose CA.
// Time and randomness are parameters; nothing here reads the clock.
package ca
