package difftest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records what the helpers report; Fatalf
// ends the goroutine of run, as it ends a test.
type recorder struct {
	testing.TB
	errors, logs []string
	fatal        bool
}

func (r *recorder) Helper() {}

func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

// run runs body against a recorder in a goroutine of its own, so that Fatalf
// can end it.
func run(t *testing.T, body func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(r)
	}()
	<-done
	return r
}

var errRefused = errors.New("refused")

// reader accepts the inputs that start with 'a' and reads their length; lax
// accepts those that start with 'b' too; other reads what reader accepts as
// its length plus one.
func reader(data []byte) (int, error) {
	if len(data) > 0 && data[0] == 'a' {
		return len(data), nil
	}
	return 0, errRefused
}

func lax(data []byte) (int, error) {
	if len(data) > 0 && data[0] == 'b' {
		return len(data), nil
	}
	return reader(data)
}

func other(data []byte) (int, error) {
	n, err := reader(data)
	return n + 1, err
}

func TestAgree(t *testing.T) {
	for _, c := range []struct {
		name            string
		data            string
		read, reference func([]byte) (int, error)
		want            string
	}{
		{"same", "abc", reader, reader, ""},
		{"stricter", "bcd", reader, lax, ""},
		{"both refuse", "xyz", reader, reader, ""},
		{"looser", "bcd", lax, reader, "accepts what the reference refuses"},
		{"different", "abc", reader, other, "differ"},
	} {
		r := run(t, func(tb testing.TB) {
			Agree(tb, "direct reader", []byte(c.data), c.read, c.reference, DeepEqual[int])
		})
		if c.want == "" && len(r.errors) != 0 {
			t.Errorf("%s: %q", c.name, r.errors)
		}
		if c.want != "" && (len(r.errors) != 1 || !r.fatal || !strings.Contains(r.errors[0], c.want)) {
			t.Errorf("%s: %q, want one fatal %q", c.name, r.errors, c.want)
		}
	}
}

func TestAnswering(t *testing.T) {
	read := Answering(func(data []byte) (int, bool) { return len(data), len(data) > 1 })
	if n, err := read([]byte("ab")); n != 2 || err != nil {
		t.Errorf("answered: %d %v", n, err)
	}
	if _, err := read([]byte("a")); !errors.Is(err, ErrNotAnswered) {
		t.Errorf("not answered: %v", err)
	}
}

func TestSeeds(t *testing.T) {
	seeds := [][]byte{[]byte("a"), []byte("ab"), []byte("x")}
	checked := 0
	check := func(tb testing.TB, data []byte) { checked++ }
	r := run(t, func(tb testing.TB) { Seeds(tb, seeds, 2, reader, check) })
	if len(r.errors) != 0 || checked != 3 || len(r.logs) != 1 {
		t.Errorf("two of three answered, two wanted: %q, %d checked, %d logged", r.errors, checked, len(r.logs))
	}
	r = run(t, func(tb testing.TB) { Seeds(tb, seeds, 3, reader, check) })
	if len(r.errors) != 1 || !r.fatal || !strings.Contains(r.errors[0], "answered only") {
		t.Errorf("two of three answered, three wanted: %q", r.errors)
	}
	// A check that fails on a seed fails the test.
	r = run(t, func(tb testing.TB) {
		Seeds(tb, seeds, 0, reader, func(tb testing.TB, data []byte) { Agree(tb, "lax", data, lax, other, DeepEqual[int]) })
	})
	if len(r.errors) != 1 || !r.fatal {
		t.Errorf("failing check: %q", r.errors)
	}
}

func TestRefused(t *testing.T) {
	cases := map[string][]byte{"x": []byte("x"), "b": []byte("b"), "a": []byte("a")}
	r := run(t, func(tb testing.TB) { Refused(tb, cases, reader, lax) })
	// "a": the reference accepts it and so does the reader; "b": the reader
	// accepts it; "x": refused by both.
	want := []string{
		"a: the reference accepts it; the case tests nothing",
		"a: accepted",
		"b: accepted",
	}
	if strings.Join(r.errors, "\n") != strings.Join(want, "\n") || r.fatal {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(r.errors, "\n"), strings.Join(want, "\n"))
	}
}
