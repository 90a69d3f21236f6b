// Package certs reads certificates, keys, chains, PKCS#12 files and CRLs by
// content, checks a sensor's certificate bundle the way the sensor would,
// validates paths per RFC 5280 with CRLs, and runs the offline CA.
package certs
