// Package gui holds Tapline's Fyne screens, one per file. It renders results
// and progress events from certs, provision and the sensorcore format packages
// and adds no business rules of its own. It never imports fyne.io/fyne/v2/app,
// so its tests run on Fyne's test driver without cgo.
package gui
