// Package faultproxy is a TCP proxy for tests that cuts connections at
// chosen points: after N bytes from the client, when the client has sent a
// byte count reached by a callback's decision, or right now. It also can
// refuse new connections, like a sensor that has moved away.
//
// It listens only on 127.0.0.1.
package faultproxy
