//go:build linux

package plan

import (
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// TestEngineEstimateRSS checks EngineEstimate against the engine itself: it
// builds lmc, runs books5M at ctx 512 (a prompt, then greedy decoding until
// the context is full) in a subprocess, and compares the estimate with the
// subprocess's peak resident memory (getrusage ru_maxrss).
func TestEngineEstimateRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lmc and runs a model: skipped with -short")
	}
	path := shared.Path(t, "models/books5M/books5M-f32.gguf")
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goBin = p
	}
	bin := filepath.Join(t.TempDir(), "lmc")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/lmc-project/lmc/cmd/lmc").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "run", "--help").CombinedOutput(); err != nil {
		t.Skipf("lmc run is not available in this build yet: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run", path, "-p", "Once upon a time", "-n", "1000", "--ctx", "512", "--temp", "0", "--ignore-eos", "-q")
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lmc run: %v\n%s", err, stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok || ru.Maxrss <= 0 {
		t.Skip("no peak RSS from getrusage")
	}
	rss := ru.Maxrss << 10 // kB on Linux
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e := EngineEstimate(m, 512, EngineOptions{})
	rel := float64(e.Total-rss) / float64(rss)
	t.Logf("lmc run books5M ctx 512: peak RSS %.1f MB; estimate %.1f MB (weights %.1f, KV %.1f, activations %.1f, runtime %.1f): %+.1f%%",
		float64(rss)/1e6, float64(e.Total)/1e6, float64(e.Weights)/1e6, float64(e.KV)/1e6, float64(e.Activations)/1e6, float64(e.Runtime)/1e6, 100*rel)
	if rel < -0.10 || rel > 0.10 {
		t.Errorf("estimate %d bytes is %+.1f%% off the measured peak RSS %d bytes (want within 10%%)", e.Total, 100*rel, rss)
	}
}
