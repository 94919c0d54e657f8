package bletest

import (
	"testing"

	"github.com/idreader/idreader/ble/memlink"
)

// TestConformance runs the shared adapter conformance checks on the
// in-memory link at the smallest and largest ATT MTUs.
func TestConformance(t *testing.T) {
	for _, mtu := range []int{23, 185, 517} {
		l, err := memlink.New(memlink.Config{MTU: mtu})
		if err != nil {
			t.Fatal(err)
		}
		RunConformance(t, l.Peripheral(), l.Central())
	}
}
