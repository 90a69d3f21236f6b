// Package console is the sensor's HTTPS console: sign-in for the admin and
// support users (first sign-in forces a new password of at least 8
// characters with upper case, lower case, a digit and a symbol; 5 failed
// sign-ins lock the account for a while; Secure, HttpOnly, SameSite=Strict
// session cookies that end after 30 idle minutes), an overview page, the
// JSON API (/api/v1/health without sign-in, /api/v1/status with it), and
// the served certificate, swapped on Reload without closing the listener.
//
// It refuses plain HTTP (the listener is TLS only), never logs passwords,
// and keeps password hashes (bcrypt) in a 0600 file.
package console
