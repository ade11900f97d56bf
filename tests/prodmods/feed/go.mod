module example.com/feed

go 1.19

// Served at test time from a file-system module proxy made of
// ../proxy/<module>@<version>/ (tests/prodcores.py), into a private module
// cache: nothing comes from the network.
require (
	example.org/Acme/retry v0.2.0
	example.org/yaml.v1 v1.3.0
)
