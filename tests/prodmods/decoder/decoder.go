// Package decoder reads `key: value` lines into fields, the way
// gopkg.in/yaml.v3 reports errors: by panicking with its own error type
// and recovering it in a deferred handleErr, which panics again with
// anything else.
package decoder

import (
	"bytes"
	"fmt"
)

// A Field takes the text of one value.
type Field interface {
	UnmarshalField(value string) error
}

type decodeError struct{ err error }

func handleErr(err *error) {
	if v := recover(); v != nil {
		if e, ok := v.(decodeError); ok {
			*err = e.err
		} else {
			panic(v)
		}
	}
}

type parser struct {
	data []byte
	line int
}

func (p *parser) fail(format string, args ...any) {
	panic(decodeError{fmt.Errorf("line %d: "+format, append([]any{p.line}, args...)...)})
}

func (p *parser) unmarshal(fields map[string]Field) {
	for _, raw := range bytes.Split(p.data, []byte("\n")) {
		p.line++
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		key, value, ok := bytes.Cut(raw, []byte(":"))
		if !ok {
			p.fail("want key: value, got %q", raw)
		}
		field, known := fields[string(bytes.TrimSpace(key))]
		if !known {
			p.fail("unknown key %q", key)
		}
		if err := field.UnmarshalField(string(bytes.TrimSpace(value))); err != nil {
			p.fail("%v", err)
		}
	}
}

// Decode fills fields from data; a malformed line is an error.
func Decode(data []byte, fields map[string]Field) (err error) {
	defer handleErr(&err)
	p := &parser{data: data}
	p.unmarshal(fields)
	return nil
}
