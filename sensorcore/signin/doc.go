// Package signin holds the password sign-in defences the console and the
// embedded SSH listener share.
//
// A Pool bounds how many password hashes (bcrypt) are computed at once, so
// a flood of sign-ins can take at most its share of the CPU; waiting
// attempts are served best first: an address that signed in recently, then
// clean addresses, then addresses with failures. A Guard throttles failed
// attempts per source address (an IPv4 address, or an IPv6 /64): each
// failure from an address makes its next attempt wait longer (250 ms,
// doubling, at most a minute), one attempt from an address is checked at
// a time, and 5 failures for one account from one address lock that
// account for that address (5 minutes, doubling for each further lock, at
// most an hour), so an attacker at one address cannot lock out an
// administrator at another. A hard lock of the account everywhere is the
// last resort: 100 failures within an hour from any number of addresses
// (a single address can make at most about 20 an hour) lock it for 15
// minutes; the console persists it and `sensorcore console unlock USER`
// ends it.
//
// It refuses rather than guesses: an attempt from a throttled address is
// answered at once without checking the password, so it costs no hashing
// and proves nothing. It never sees a password: the caller's check does.
package signin
