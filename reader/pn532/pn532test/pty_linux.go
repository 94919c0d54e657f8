//go:build linux

package pn532test

import (
	"context"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// PTY serves the chip's HSU on a pseudo-terminal: the driver opens Path as
// it would open /dev/ttyAMA0.
type PTY struct {
	// Path is the terminal device the driver opens (/dev/pts/N).
	Path string

	master *os.File
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// ServePTY opens a pseudo-terminal and serves the chip's HSU on its master
// side until Close.
func (c *Chip) ServePTY() (*PTY, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("pn532test: opening a pseudo-terminal: %w", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, fmt.Errorf("pn532test: unlocking the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("pn532test: naming the pseudo-terminal: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &PTY{Path: fmt.Sprintf("/dev/pts/%d", n), master: m, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_ = c.Serve(ctx, m)
	}()
	return p, nil
}

// Close stops serving and closes the pseudo-terminal.
func (p *PTY) Close() error {
	var err error
	p.once.Do(func() {
		p.cancel()
		err = p.master.Close()
		<-p.done
	})
	return err
}
