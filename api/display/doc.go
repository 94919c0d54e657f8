// Package display is the kiosk page the daemon serves for the screen next
// to a reader (Chromium in kiosk mode): one embedded page that shows ready,
// reading, accept or reject with a plain-language reason in English and
// Japanese, large enough to read at arm's length, live-updated over
// server-sent events from /display/events.
//
// Unlike the point-of-sale event stream, /display/events carries
// daemon.Event.Personal (the holder's name and portrait, for profiles
// that allow the clerk to compare faces): serve it only to the kiosk on the
// same box (the api package mounts it for loopback and Unix-socket clients,
// and for others only with the bearer token). The personal data is cleared
// after Options.ClearAfter: the server sends a ready state, and the page
// clears itself on its own timer too in case that message is lost. A page
// that connects later never receives an earlier holder's data.
package display
