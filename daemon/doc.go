// Package daemon is the long-running part of the reader: one loop per
// configured reader (idle → target present or code scanned → one
// terminal.Tap → policy decision → signal on the hardware outputs → wait
// for removal → idle), reopening a failed reader with backoff; checks armed
// by the point of sale; the event stream the API, metrics and kiosk display
// read through Service; the per-tap audit record; and the retention of the
// last check result, which holds personal data.
//
// Time for backoff, holds and retention comes from an injected
// hardware.Clock, and operational logs go to an injected zerolog.Logger
// that never receives personal data. Package daemontest has a fake Service
// for the consumers' tests, package simulated the world of
// `idreaderd --demo`.
package daemon
