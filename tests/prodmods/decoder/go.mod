module example.org/decoder

go 1.19
