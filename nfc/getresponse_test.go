package nfc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/idreader/idreader/nfc"
)

// stuckCard answers every command with "61 10" and no data: a card that
// promises more forever without sending any.
type stuckCard struct{ n int }

func (c *stuckCard) Transmit(context.Context, []byte) ([]byte, error) {
	c.n++
	if c.n > 1000 {
		return nil, errors.New("test: the reader kept asking")
	}
	return []byte{0x61, 0x10}, nil
}

func TestTransmitRefusesGetResponseWithoutProgress(t *testing.T) {
	card := &stuckCard{}
	_, err := nfc.Transmit(context.Background(), card, nfc.Limits{}, nfc.SelectAID(nfc.DataTransferAID))
	if !errors.Is(err, nfc.ErrMalformedAPDU) {
		t.Fatalf("err = %v, want ErrMalformedAPDU", err)
	}
	if card.n != 2 {
		t.Errorf("%d commands sent, want 2 (the command and one GET RESPONSE)", card.n)
	}
}
