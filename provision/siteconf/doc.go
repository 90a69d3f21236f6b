// Package siteconf makes a site's NATS JetStream servers ready for its
// sensors (docs/site.md, "Site servers"): the configuration of one node
// or of a cluster of three or more, their certificates from the plant's
// offline CA, one NKEY user per sensor allowed only its own subjects, the
// app's and the administrator's users, and the streams the sensors
// publish to. It writes files; it starts nothing and connects nowhere,
// except Apply, which creates or updates the streams on running servers.
//
// It refuses rather than guesses: a site name that is no subject token, a
// cluster of two nodes (JetStream needs a majority), a sensor name given
// twice, a folder holding another site's configuration.
package siteconf
