// Package yaml is a stand-in for gopkg.in/yaml.v3, small enough to read:
// errors travel as panics of its own type, recovered by a deferred
// handleErr that panics again with anything else.
package yaml

import (
	"bytes"
	"errors"
	"fmt"
)

// An Unmarshaler takes the text of its value.
type Unmarshaler interface {
	UnmarshalYAML(value string) error
}

type yamlError struct{ err error }

func handleErr(err *error) {
	if v := recover(); v != nil {
		if e, ok := v.(yamlError); ok {
			*err = e.err
		} else {
			panic(v)
		}
	}
}

type decoder struct{ line int }

func (d *decoder) unmarshal(data []byte, out Unmarshaler) {
	for _, raw := range bytes.Split(data, []byte("\n")) {
		d.line++
		_, value, ok := bytes.Cut(raw, []byte(":"))
		if !ok {
			continue
		}
		if err := out.UnmarshalYAML(string(bytes.TrimSpace(value))); err != nil {
			panic(yamlError{fmt.Errorf("yaml: line %d: %w", d.line, err)})
		}
	}
}

// Unmarshal decodes data into out.
func Unmarshal(data []byte, out any) (err error) {
	defer handleErr(&err)
	u, ok := out.(Unmarshaler)
	if !ok {
		return errors.New("yaml: out is not an Unmarshaler")
	}
	d := &decoder{}
	d.unmarshal(data, u)
	return nil
}
