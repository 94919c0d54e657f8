//go:build !cgo

package pcsc

import (
	"context"
	"fmt"

	"github.com/idreader/idreader/reader"
)

// Provider lists and opens PC/SC readers. This build has no cgo, so there is
// none.
type Provider struct{}

// reasonNoCgo is the one line an operator reads when this build is asked
// for a PC/SC reader.
const reasonNoCgo = "this idreader was built without PC/SC (cgo); use a pn532: reader or a cgo build"

// errNoCgo is a *reader.UnavailableError saying so; it wraps ErrNoCgo and
// reader.ErrServiceUnavailable.
func errNoCgo() error {
	return &reader.UnavailableError{Reason: reasonNoCgo, Err: fmt.Errorf("%w: %w", reader.ErrServiceUnavailable, ErrNoCgo)}
}

// New returns a *reader.UnavailableError wrapping ErrNoCgo: this build has
// no cgo.
func New(opts Options) (*Provider, error) { return nil, errNoCgo() }

// List returns the error of New.
func (p *Provider) List(ctx context.Context) ([]string, error) { return nil, errNoCgo() }

// Open returns the error of New.
func (p *Provider) Open(ctx context.Context, name string) (reader.Reader, error) {
	return nil, errNoCgo()
}
