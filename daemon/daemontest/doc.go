// Package daemontest provides a fake daemon.Service for tests of the
// daemon's consumers: the point-of-sale API, the kiosk display, metrics and
// outputs. Tests drive it by hand: Emit sends events, Armed reports a check
// that waits for a tap, Answer or Fail completes it.
package daemontest
