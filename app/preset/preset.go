// Package preset is what a caller may hand the desktop app to start with:
// the files and settings its screens open filled in, and the first sensor
// the setup wizard shows. The demo fleet is such a caller; the app knows
// nothing else of it. Pure Go, no GUI, so the demo and the CLI share it.
//
// A preset may carry a password or passphrase: it lives in memory only and
// is never written anywhere by the app.
package preset

// Preset is the app's starting point. Zero fields leave the app's defaults.
type Preset struct {
	// Inventory is the inventory CSV the Fleet screen opens at start.
	Inventory string
	// FilesDir is the folder for the local CA, bundles and reports.
	FilesDir string
	// KnownHosts is the known_hosts file pushes trust.
	KnownHosts string
	// TrustRoot is an activation root public key file to trust instead of
	// the production root (lab and demo authorities only).
	TrustRoot string
	// SSHPassword is the Fleet screen's password for rows with auth=password.
	SSHPassword string
	// AcceptNew trusts a sensor's host key on first contact in Fleet.
	AcceptNew bool
	// CAPassphrase unlocks the local CA in FilesDir.
	CAPassphrase string
	// Site is a site's site.json (tapline site init) the Site screen
	// opens at start.
	Site string
	// Sensors are the sensors the preset knows, in order; the setup
	// wizard starts filled in for the first.
	Sensors []Sensor
}

// Sensor is one sensor as the setup wizard takes it.
type Sensor struct {
	Name string
	// Address, SSHPort and ConsolePort reach the sensor now.
	Address, SSHPort, ConsolePort string
	User, Password                string
	// NewIP, Mask, Gateway, DNS and Hostname are the network settings its
	// bundle sets; Reach is where it is reached after the change.
	NewIP, Mask, Gateway, DNS, Hostname, Reach string
	// Activation, Cert, Key and Chain are its files.
	Activation, Cert, Key, Chain string
	// Uplink is the site.json of the site it streams to, if any.
	Uplink string
}
