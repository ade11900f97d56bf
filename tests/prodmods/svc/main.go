// gocore:build -trimpath
// A service as CI builds it: -trimpath, a sub-package of its own
// (example.com/svc/internal/config) and a dependency brought in by a
// replace directive (example.org/decoder => ../decoder). The decoder calls
// back into the service, which dereferences nil; the decoder's deferred
// handleErr recovers only its own errors and panics again with the rest,
// as gopkg.in/yaml.v3's does.
package main

import (
	"fmt"

	"example.com/svc/internal/config"
)

func main() {
	cfg, err := config.Load([]byte("name: billing\nport: 8080\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Name, cfg.Port.Number)
}
