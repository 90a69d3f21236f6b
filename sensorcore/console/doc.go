// Package console is the sensor's HTTPS console: sign-in for the admin and
// support users (first sign-in forces a new password of at least 8
// characters with upper case, lower case, a digit and a symbol; Secure,
// HttpOnly, SameSite=Strict session cookies that end after 30 idle
// minutes), an overview page, the JSON API (/api/v1/health without
// sign-in, /api/v1/status with it), and the served certificate, swapped on
// Reload without closing the listener.
//
// Sign-ins go through package signin: hashed on a bounded worker pool with
// no shared lock held, throttled per source address with growing delays;
// 5 failed sign-ins lock the account for a while for the address they came
// from, so an attacker at one address cannot lock out an administrator at
// another; a hard lock everywhere is the last resort, time-limited and
// ended by `sensorcore console unlock`. The account file is shared with the
// `sensorcore console` commands (reset, unlock), whose changes the running
// console picks up at once: a reset ends the user's sessions and clears
// its throttling. Account events go to the sensor's account log.
//
// It refuses plain HTTP (the listener is TLS only), never logs passwords
// or the user names an attacker types, and keeps password hashes (bcrypt)
// in a 0600 file.
package console
