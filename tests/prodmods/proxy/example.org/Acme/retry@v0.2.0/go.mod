module example.org/Acme/retry

go 1.19
