//go:build !cgo

package pcsc

import (
	"context"

	"github.com/idreader/idreader/reader"
)

// Provider lists and opens PC/SC readers. This build has no cgo, so there is
// none.
type Provider struct{}

// New returns ErrNoCgo: this build has no cgo.
func New(opts Options) (*Provider, error) { return nil, ErrNoCgo }

// List returns ErrNoCgo.
func (p *Provider) List(ctx context.Context) ([]string, error) { return nil, ErrNoCgo }

// Open returns ErrNoCgo.
func (p *Provider) Open(ctx context.Context, name string) (reader.Reader, error) {
	return nil, ErrNoCgo
}
