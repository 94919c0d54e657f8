package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as a Go duration ("1.5s", "300ms")
// or as a number of seconds.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// decoder walks a yaml.Node tree into Go values by their yaml tags,
// recording the line of every key and collecting errors that name the line
// and the key.
type decoder struct {
	file  string
	lines map[string]int
	errs  []error
}

// lineError is one configuration error.
type lineError struct {
	file string
	line int
	path string
	msg  string
}

func (e *lineError) Error() string {
	var b strings.Builder
	b.WriteString(e.file)
	if e.line > 0 {
		fmt.Fprintf(&b, ":%d", e.line)
	}
	if e.path != "" {
		b.WriteString(": " + e.path)
	}
	b.WriteString(": " + e.msg)
	return b.String()
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &lineError{file: d.file, line: line, path: path, msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var durationType = reflect.TypeOf(Duration(0))

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value keeps the default
	}
	if v.Type() == durationType {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "want a duration such as 5s or 300ms, got %s", kindName(n))
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			secs, ferr := strconv.ParseFloat(n.Value, 64)
			if ferr != nil {
				d.errorf(n.Line, path, "bad duration %q (want e.g. 5s, 300ms or a number of seconds)", n.Value)
				return
			}
			dur = time.Duration(secs * float64(time.Second))
		}
		if dur < 0 {
			d.errorf(n.Line, path, "negative duration %q", n.Value)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	if v.Type() == trustType && n.Kind == yaml.ScalarNode {
		d.errorf(n.Line, path, "want a list of folders or a mapping, got %s", kindName(n))
		return
	}
	if v.Type() == trustType && n.Kind == yaml.SequenceNode {
		// trust: [a, b] is the folders-only form.
		v.Addr().Interface().(*Trust).listForm = true
		d.decode(n, path, v.FieldByName("Folders"))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n.Line, path, "want a mapping, got %s", kindName(n))
			return
		}
		fields := map[string]int{}
		var names []string
		for i := 0; i < v.NumField(); i++ {
			tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if tag != "" && tag != "-" {
				fields[tag] = i
				names = append(names, tag)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			idx, ok := fields[k.Value]
			if !ok {
				d.errorf(k.Line, p, "unknown key (known: %s)", strings.Join(names, ", "))
				continue
			}
			d.lines[p] = k.Line
			d.decode(val, p, v.Field(idx))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n.Line, path, "want a mapping, got %s", kindName(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if k.Kind != yaml.ScalarNode || k.Value == "" {
				d.errorf(k.Line, p, "keys must be non-empty names")
				continue
			}
			d.lines[p] = k.Line
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, p, elem)
			v.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, path, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = c.Line
			d.decode(c, p, s.Index(i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "want a text value, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
			d.errorf(n.Line, path, "want true or false, got %s", kindName(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.errorf(n.Line, path, "want a whole number, got %s", kindName(n))
			return
		}
		v.SetInt(int64(i))
	default:
		d.errorf(n.Line, path, "config: unsupported field type %s", v.Type())
	}
}

// parseYAML decodes data into v, reporting syntax errors with the line.
func (d *decoder) parseYAML(data []byte, v any) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		var te *yaml.TypeError
		msg := err.Error()
		if errors.As(err, &te) {
			msg = strings.Join(te.Errors, "; ")
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		line := 0
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			num, after, _ := strings.Cut(rest, ":")
			if l, err := strconv.Atoi(num); err == nil {
				line, msg = l, strings.TrimSpace(after)
			}
		}
		d.errorf(line, "", "%s", msg)
		return
	}
	if len(root.Content) == 0 {
		return
	}
	d.decode(&root, "", reflect.ValueOf(v).Elem())
}
