//go:build !cgo

package pcsc

import (
	"context"
	"errors"
	"testing"

	"github.com/idreader/idreader/reader"
)

// TestStubUnavailable: a build without cgo says in one operator's line that
// it has no PC/SC, as a reader that cannot be used.
func TestStubUnavailable(t *testing.T) {
	_, err := New(Options{FailFast: true})
	ue := reader.Unavailable(err)
	if ue == nil || ue.Error() != reasonNoCgo || !errors.Is(err, ErrNoCgo) || !errors.Is(err, reader.ErrServiceUnavailable) {
		t.Fatalf("New: %#v", err)
	}
	var p *Provider
	if _, err := p.Open(context.Background(), "any"); reader.Unavailable(err) == nil || !errors.Is(err, ErrNoCgo) {
		t.Errorf("Open: %v", err)
	}
	if _, err := p.List(context.Background()); reader.Unavailable(err) == nil {
		t.Errorf("List: %v", err)
	}
}
