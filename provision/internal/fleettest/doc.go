// Package fleettest builds real appliances for provision's tests: a lab
// activation authority (sensorcore/activation), a plant CA and sensor
// certificates made by openssl, the sensorcore binary built from this
// module, and `sensorcore serve` processes with the embedded SSH listener
// (optionally inside a network namespace).
package fleettest
