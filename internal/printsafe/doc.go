// Package printsafe makes text that came from a phone safe to print, log or
// show: every control character (C0, DEL, C1), every Unicode bidirectional
// control and every invalid UTF-8 byte is replaced by a visible escape, so a
// document type holding "\x1b[2J" or U+202E cannot repaint a terminal,
// reorder a log line or fake a verdict; and [Clip] bounds its length.
//
// It is pure and may be used by the core as well as by the edges.
package printsafe
