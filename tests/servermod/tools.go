//go:build tools

package server

import _ "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin"
