module example.com/svc

go 1.19

require example.org/decoder v1.0.0

// The decoder is a sibling directory, as in a monorepo: with -trimpath its
// files are still recorded as example.org/decoder@v1.0.0/... (the version
// required here), though no module cache holds them.
replace example.org/decoder => ../decoder
