// Package retry calls a function until it succeeds.
package retry

import "fmt"

// Do calls fn up to attempts times and returns its last error.
func Do(attempts int, fn func(attempt int) error) error {
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		if err = fn(attempt); err == nil {
			return nil
		}
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}
