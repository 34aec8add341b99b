package cli

import (
	"os"
	"strings"
	"testing"

	_ "github.com/lmc-project/lmc/models/lmcmini"
)

func TestScratchRun(t *testing.T) {
	a := os.Getenv("LMC_ARGS")
	if a == "" {
		t.Skip()
	}
	code, out, errOut := runQ(t, strings.Fields(a)...)
	os.Stdout.WriteString(out)
	os.Stderr.WriteString(errOut)
	if code != 0 {
		t.Fatal(code)
	}
}
