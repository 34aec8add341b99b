// Package cli is lmc's command line: cobra commands that parse flags and
// call the library packages. Nothing here is API.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Version is lmc's version, set at build time with
// -ldflags "-X github.com/lmc-project/lmc/internal/cli.Version=v0.1.0".
var Version = "dev"

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev+" + s.Value[:12]
			}
		}
	}
	return Version
}

// IO carries the streams, so tests can run commands against buffers.
type IO struct {
	In       io.Reader
	Out      io.Writer
	ErrOut   io.Writer
	isTTYOut bool
	isTTYErr bool
}

// progress reports whether progress bars should be drawn: only when both
// streams are terminals (as gh does) and the user did not ask for quiet or
// JSON output.
func (s *IO) progress(quiet bool) bool { return s.isTTYErr && s.isTTYOut && !quiet }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks a mistake in how lmc was called (exit code 2).
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// Main runs lmc with args and returns the process exit code: 0 success,
// 1 failure, 2 usage error.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	s := &IO{In: in, Out: out, ErrOut: errOut, isTTYOut: isTerminal(out), isTTYErr: isTerminal(errOut)}
	root := newRoot(s)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(errOut, "lmc:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func newRoot(s *IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "lmc",
		Short: "Compress large language models and measure what it costs",
		Long: `lmc makes large language models cheaper, faster and smaller to run, and
measures every trade-off. It reads and writes the files people serve models
from: GGUF (llama.cpp, ollama), Hugging Face folders with safetensors (vLLM,
transformers) and llama2.c checkpoints.

The built-in default model, lmc-mini, works anywhere a model path is asked
for, so every command can be tried without a download:

  lmc inspect lmc-mini
  lmc convert lmc-mini lmc-mini.gguf`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	root.AddCommand(newInspectCmd(s), newConvertCmd(s), newPlanCmd(s), newPromptCmd(s), newRunCmd(s), newEvalCmd(s), newBenchCmd(s), newQuantizeCmd(s), newImatrixCmd(s), newCompressCmd(s))
	return root
}

// exactArgs is cobra.ExactArgs with a usage-error exit code and a hint.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s takes %d argument(s), got %d\nUsage: %s", cmd.Name(), n, len(args), cmd.UseLine())
		}
		return nil
	}
}
