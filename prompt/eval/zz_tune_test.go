package eval

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/prompt/tokens"
)

func TestTune(t *testing.T) {
	f := os.Getenv("TUNE")
	if f == "" {
		t.Skip()
	}
	exs, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tokens.Open("o200k_base")
	var chains [][]string
	for _, m := range strings.Split(os.Getenv("METHODS"), ",") {
		chains = append(chains, strings.Split(m, "+"))
	}
	rows, err := Run(context.Background(), exs, Config{Chains: chains, Rates: []float64{0.5, 0.33, 0.25}, Counter: c})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		fmt.Printf("%-22s %.2f ratio %.2f pratio %.2f ret %.3f fb %d %.1fMB/s %s\n", r.Method, r.Rate, r.Ratio, r.PromptRatio, r.Retention, r.Fallbacks, r.MBPerSec, r.FirstError)
	}
}

func TestTuneMemory(t *testing.T) {
	if os.Getenv("TUNEMEM") == "" {
		t.Skip()
	}
	c, _ := tokens.Open("o200k_base")
	var chains [][]string
	for _, m := range strings.Split(os.Getenv("METHODS"), ",") {
		chains = append(chains, strings.Split(m, "+"))
	}
	rows, err := Run(context.Background(), MemoryCases(100, 1), Config{Chains: chains, Rates: []float64{0.5, 0.33, 0.25}, Counter: c})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		fmt.Printf("%-22s %.2f ratio %.2f pratio %.2f ret %.3f fb %d %.1fMB/s %s\n", r.Method, r.Rate, r.Ratio, r.PromptRatio, r.Retention, r.Fallbacks, r.MBPerSec, r.FirstError)
	}
}
