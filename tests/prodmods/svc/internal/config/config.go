// Package config reads the service's settings with example.org/decoder.
package config

import (
	"fmt"
	"strconv"

	"example.org/decoder"
)

type Limits struct{ Max int }

type Port struct {
	Number int
	limits *Limits // never set: the bug
}

func (p *Port) UnmarshalField(value string) error {
	n, err := strconv.Atoi(value)
	if err != nil {
		return fmt.Errorf("port %q: %w", value, err)
	}
	if n > p.limits.Max { // CRASH
		return fmt.Errorf("port %d above %d", n, p.limits.Max)
	}
	p.Number = n
	return nil
}

type Name string

func (n *Name) UnmarshalField(value string) error {
	*n = Name(value)
	return nil
}

type Config struct {
	Name Name
	Port Port
}

func Load(data []byte) (*Config, error) {
	cfg := &Config{}
	err := decoder.Decode(data, map[string]decoder.Field{"name": &cfg.Name, "port": &cfg.Port})
	return cfg, err
}
