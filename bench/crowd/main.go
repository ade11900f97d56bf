// A crowd of goroutines in a few kinds of wait, then a panic in a worker:
// the shape of a real service that crashed under load.
//
//	crowd N    starts N goroutines (default 1000)
package main

import (
	"os"
	"strconv"
	"sync"
	"time"
)

func reader(ch chan int) {
	<-ch
}

func sleeper() {
	time.Sleep(time.Hour)
}

func waiter(mu *sync.Mutex) {
	mu.Lock()
}

func selector(a, b chan int) {
	select {
	case <-a:
	case <-b:
	}
}

func explode(n int) {
	if n > 0 {
		panic("crowd worker exploded") // CRASH
	}
}

func main() {
	n := 1000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	ch := make(chan int)
	var mu sync.Mutex
	mu.Lock()
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			go func() { started.Done(); reader(ch) }()
		case 1:
			go func() { started.Done(); sleeper() }()
		case 2:
			go func() { started.Done(); waiter(&mu) }()
		default:
			go func() { started.Done(); selector(ch, ch) }()
		}
	}
	started.Wait()
	time.Sleep(100 * time.Millisecond)
	go explode(1)
	time.Sleep(time.Hour)
}
