// Package crlfetch fetches a certificate's CRL from its http:// distribution
// point (RFC 5280 §4.2.1.13), through the sensor's configured HTTP proxy,
// with a timeout and retries (3 s and 1 by default, docs/field-facts.md). It
// refuses https:// and other schemes (a CRL is fetched over plain HTTP, its
// signature protects it) and bodies over 8 MiB. An unreachable location
// gives the sensor's message: "The CRL (Certificate Revocation List)
// location is not reachable. Verify the URL can be accessed from this
// appliance".
package crlfetch
