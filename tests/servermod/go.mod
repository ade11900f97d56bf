module gocoretui.example/server

go 1.22.0

require github.com/mccutchen/go-httpbin/v2 v2.18.2 // indirect
