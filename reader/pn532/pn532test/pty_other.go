//go:build !linux

package pn532test

import "errors"

// PTY serves the chip's HSU on a pseudo-terminal (Linux only).
type PTY struct {
	// Path is the terminal device the driver opens.
	Path string
}

// ServePTY is Linux-only.
func (c *Chip) ServePTY() (*PTY, error) {
	return nil, errors.New("pn532test: pseudo-terminals are emulated on Linux only")
}

// Close does nothing.
func (p *PTY) Close() error { return nil }
