// Package console is a hardware.Output for a terminal without a screen: it
// writes one line per signal, with the reader's name and, through
// ShowReasons, the decision's reason codes, to an io.Writer (a serial
// console, stdout under systemd, a log file).
//
// It receives only signals and reason codes, so it never holds personal
// data; reasons that do not look like codes are not printed, so free text
// cannot leak through it either.
package console
