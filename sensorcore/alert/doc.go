// Package alert turns observations into alerts: a learning period builds a
// baseline of who talks to whom with which protocols and function codes,
// after which a new device, connection, protocol or function code raises an
// alert; always-on rules (one per file) raise alerts for dangerous
// industrial operations whatever the baseline says. Alerts carry an id,
// time, severity, title, a message with its evidence and a status (new or
// acknowledged), and are forwarded to syslog receivers as RFC 5424 messages
// whose text is a CEF record, over UDP or TCP.
//
// Repeats of an alert (same rule, addresses, protocol and function) bump its
// count and last-seen time instead of creating a new one, so a flood of
// identical events neither allocates nor floods syslog. The package never
// blocks the packet path on a slow receiver: forwarding is queued and
// drops are counted.
package alert
