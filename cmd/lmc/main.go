// Command lmc compresses large language models and measures what the
// compression costs. Run `lmc --help` for the commands.
package main

import (
	"os"

	"github.com/lmc-project/lmc/internal/cli"
	_ "github.com/lmc-project/lmc/models/lmcmini" // the built-in default model
	_ "github.com/lmc-project/lmc/quant"          // quantized weight kernels (Q8_0, Q4_K, ...)
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
