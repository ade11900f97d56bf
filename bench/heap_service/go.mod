module gocoretui.example/heapservice

go 1.19
