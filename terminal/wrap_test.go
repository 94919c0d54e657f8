package terminal_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/terminal"
)

// goneTarget fails every APDU: the phone left before the first SELECT.
type goneTarget struct{}

func (goneTarget) Transmit(context.Context, []byte) ([]byte, error) {
	return nil, reader.ErrRemoved
}

// TestTapErrorWrappedOnce: an error of the engagement names each layer
// once ("reading handover: selecting ndef application: …"), not twice.
func TestTapErrorWrappedOnce(t *testing.T) {
	_, err := terminal.Tap(context.Background(), goneTarget{}, terminal.Config{Request: terminal.DefaultRequestProfile()})
	if !errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("Tap: %v, want ErrRemoved", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "reading handover"); n != 1 {
		t.Errorf("%q says \"reading handover\" %d times, want once", msg, n)
	}
	if !strings.Contains(msg, "selecting ndef application") {
		t.Errorf("%q does not name the failed step", msg)
	}
	if got := terminal.ErrorCode(err); got != terminal.CodeRemoved {
		t.Errorf("code %q, want %q", got, terminal.CodeRemoved)
	}
}
