package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/plan"
	"github.com/lmc-project/lmc/quantize"
)

func main() {
	m, err := modelfile.Open(os.Args[1], nil)
	if err != nil {
		panic(err)
	}
	ft, _ := plan.ParseFileType(os.Args[2])
	th, _ := strconv.Atoi(os.Args[3])
	if len(os.Args) > 4 {
		f, _ := os.Create(os.Args[4])
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var best time.Duration
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		_, err = quantize.Run(context.Background(), m, "/tmp/qb.gguf", quantize.Options{FileType: ft, Threads: th, NoResume: true})
		if err != nil {
			panic(err)
		}
		d := time.Since(t0)
		if i == 0 || d < best {
			best = d
		}
	}
	fmt.Printf("%s threads=%d best of 5: %v\n", os.Args[2], th, best)
}
