// gocore:optimize
// gocore:build -trimpath
// A production build (optimized, -trimpath) whose dependencies come
// through the module cache: example.org/yaml.v1 (a dot in its last path
// element, so the linker names its functions example.org/yaml%2ev1.*) and
// example.org/Acme/retry (upper case: the module cache stores it under
// example.org/!acme/retry@v0.2.0). yaml.v1 calls back into the feed, the
// feed's retry callback dereferences nil, and yaml's deferred handleErr
// panics again with it.
package main

import (
	"fmt"
	"strings"

	"example.org/Acme/retry"
	yaml "example.org/yaml.v1"
)

type Source struct {
	URL     string
	mirrors map[string]*Mirror
}

type Mirror struct{ URL string }

func (s *Source) UnmarshalYAML(value string) error {
	return retry.Do(3, func(attempt int) error {
		mirror := s.mirrors[value]
		if !strings.HasPrefix(mirror.URL, "https://") { // CRASH
			return fmt.Errorf("attempt %d: %s is not https", attempt, mirror.URL)
		}
		s.URL = mirror.URL
		return nil
	})
}

func main() {
	var src Source
	if err := yaml.Unmarshal([]byte("source: primary\n"), &src); err != nil {
		panic(err)
	}
	fmt.Println(src.URL)
}
