package hardware

import (
	"context"
	"errors"
	"fmt"
)

// Multi returns an Output that shows every signal on all outputs, in order,
// and closes them all. A failing output does not stop the others: Show and
// Close return the errors of all outputs joined (errors.Join), each wrapped
// with its position. Reasons are passed on to outputs that take them
// (ReasonShower). Nil outputs are skipped.
func Multi(outputs ...Output) ReasonShower {
	m := make(multi, 0, len(outputs))
	for _, o := range outputs {
		if o != nil {
			m = append(m, o)
		}
	}
	return m
}

type multi []Output

func (m multi) Show(ctx context.Context, s Signal) error {
	return m.ShowReasons(ctx, s, nil)
}

func (m multi) ShowReasons(ctx context.Context, s Signal, reasons []string) error {
	var errs []error
	for i, o := range m {
		var err error
		if reasons != nil {
			err = ShowReasons(ctx, o, s, reasons)
		} else {
			err = o.Show(ctx, s)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("showing %s on output %d: %w", s, i, err))
		}
	}
	return errors.Join(errs...)
}

func (m multi) Close() error {
	var errs []error
	for i, o := range m {
		if err := o.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing output %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
