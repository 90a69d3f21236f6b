// Package sensorcore is the appliance side of Tapline: the daemon that applies
// provisioning bundles, serves the HTTPS console and passively monitors OT
// traffic. Its format packages (activation, bundle, netconf) are the contract
// with the laptop and are imported by it; nothing under sensorcore imports the
// laptop's packages or fyne.io, and the binary builds with CGO_ENABLED=0.
package sensorcore
