module gocoretui.example/bench

go 1.19
