package pn532test_test

import (
	"context"
	"testing"

	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532test"
)

func TestSmoke(t *testing.T) {
	chip := pn532test.New(pn532test.Options{})
	ctx := context.Background()
	for _, mk := range []func() (pn532.Transport, func()){
		func() (pn532.Transport, func()) { return pn532.NewI2C(chip.I2C(), pn532.I2COptions{}), func() {} },
		func() (pn532.Transport, func()) {
			c, err := chip.SPI().Connect(pn532.SPIMaxSpeed, pn532.SPIMode, 8)
			if err != nil {
				t.Fatal(err)
			}
			return pn532.NewSPI(c, pn532.SPIOptions{}), func() {}
		},
		func() (pn532.Transport, func()) {
			p, err := chip.ServePTY()
			if err != nil {
				t.Fatal(err)
			}
			u, err := pn532.OpenSerial(p.Path)
			if err != nil {
				t.Fatal(err)
			}
			return u, func() { u.Close(); p.Close() }
		},
	} {
		tr, done := mk()
		r, err := pn532.New(ctx, tr, pn532.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Log(tr, r.Firmware(), r.Stats())
		done()
	}
}
