package hardware_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Only hardware/gpio (and cmd/) may reach periph's host drivers: the
// contract, the console and the fakes must build and test without them.
func TestOnlyGPIOImportsPeriphHost(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, p := range []string{".", "./console", "./hardwaretest"} {
		out, err := exec.Command("go", "list", "-deps", "-test", p).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", p, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "periph.io/x/host") {
				t.Errorf("%s depends on %s", p, dep)
			}
		}
	}
}
