// Package page is the sensor console's look: one layout for every page (the
// sensor's name and generation in a header, navigation to Overview,
// Devices, Alerts and the operations log beside it, the signed-in user and
// Sign out), the stylesheet, and a slot for each page's content. The
// console renders its own pages with it and hands the frame to the
// monitoring pages it mounts, which render theirs the same way.
//
// The visual language is the desktop app's (its dark theme's colours, a
// navigation column of icons over labels, the current entry in the primary
// blue). Pages carry no inline style or script: the stylesheet is a file,
// so the console's Content-Security-Policy forbids both.
package page
