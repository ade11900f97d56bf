// gocore:optimize
// A service-shaped heap for bench/heap.py: at -scale 1, about 1.2 GB live
// in about 11.6M objects, then a crash (GOTRACEBACK=crash writes the core).
//
//   - a map[int64]*Session of 3.5M sessions, each with a *Child that holds
//     a 48-byte []byte (the shape of a session registry);
//   - a linked list of 1M *Node reachable only from its head (depth);
//   - 320 MB of 4 KiB []byte blobs in a [][]byte;
//   - four 16 MiB []*Child arrays (pointer-dense large objects).
//
// It prints runtime.ReadMemStats (HeapObjects, HeapAlloc) on stderr before
// it crashes, for the benchmark to compare with the readers.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
)

type Child struct {
	id   int64
	data []byte
	tag  *Session
}

type Session struct {
	id      int64
	user    string
	child   *Child
	next    *Session
	created int64
	score   float64
	flags   [4]int64
}

type Node struct {
	val     int64
	next    *Node
	payload [4]int64
}

var (
	registry map[int64]*Session
	list     *Node
	blobs    [][]byte
	arrays   [][]*Child
)

func main() {
	scale := flag.Float64("scale", 1, "size of the heap (1: about 1.2 GB)")
	flag.Parse()
	sessions := int(3_500_000 * *scale)
	nodes := int(1_000_000 * *scale)
	blobCount := int(80_000 * *scale)
	arrayLen := int(2 * 1024 * 1024 * *scale) // 16 MiB of pointers at scale 1
	registry = make(map[int64]*Session, sessions)
	var prev *Session
	for i := 0; i < sessions; i++ {
		s := &Session{id: int64(i), user: "user", created: int64(i)}
		s.child = &Child{id: int64(i), data: make([]byte, 48), tag: s}
		if prev != nil {
			prev.next = s
		}
		prev = s
		registry[int64(i)] = s
	}
	for i := 0; i < nodes; i++ {
		list = &Node{val: int64(i), next: list}
	}
	for i := 0; i < blobCount; i++ {
		blobs = append(blobs, make([]byte, 4096))
	}
	for a := 0; a < 4; a++ {
		arr := make([]*Child, arrayLen)
		for i := range arr {
			if s := registry[int64(i%sessions)]; s != nil {
				arr[i] = s.child
			}
		}
		arrays = append(arrays, arr)
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Fprintf(os.Stderr, "memstats: objects=%d alloc=%d inuse=%d\n", m.HeapObjects, m.HeapAlloc, m.HeapInuse)
	panic("heap_service: crash with a big heap")
}
