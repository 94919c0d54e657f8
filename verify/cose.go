package verify

import (
	"errors"
	"fmt"

	"github.com/idreader/idreader/cose"
)

// coseErr puts an error of package cose into this package's categories,
// keeping its detail: malformed → [ErrMalformed], unsupported →
// [ErrUnsupported]. A signature or MAC that does not verify gets no category
// here: the caller knows whose it was (issuer signature or device
// authentication).
func coseErr(err error) error {
	if err == nil {
		return nil // before the errors.As target exists: it would escape on every call
	}
	return categorize(err)
}

func categorize(err error) error {
	var ce *cose.Error
	if !errors.As(err, &ce) {
		return err
	}
	switch ce.Kind {
	case cose.ErrMalformed:
		return fmt.Errorf("%w: %s", ErrMalformed, ce.Detail)
	case cose.ErrUnsupported:
		return fmt.Errorf("%w: %s", ErrUnsupported, ce.Detail)
	}
	return errors.New(ce.Detail)
}

// parseSign1 and parseMac0 decode a COSE message (tagged or not) with
// errors in this package's categories. data is part of the document being
// verified, which the Result holds (a private copy, or the bytes handed
// over to VerifyNoCopy or VerifyResponse): the message aliases it instead
// of copying it again.
func parseSign1(data []byte) (*cose.Message, error) {
	m, err := cose.ParseSign1NoCopy(data)
	return m, coseErr(err)
}

func parseMac0(data []byte) (*cose.Message, error) {
	m, err := cose.ParseMac0NoCopy(data)
	return m, coseErr(err)
}
