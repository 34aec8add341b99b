package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/plan"
	_ "github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/quantize"
	"github.com/lmc-project/lmc/tokenizer"
)

func main() {
	src := flag.String("m", "/work/shared/models/books5M/books5M-f32.gguf", "")
	ftS := flag.String("t", "q4_k_m", "")
	method := flag.String("method", "rtn", "")
	calib := flag.String("calib", "", "")
	chunks := flag.Int("chunks", 64, "")
	evalChunks := flag.Int("eval", 100, "")
	pure := flag.Bool("pure", false, "")
	out := flag.String("o", "/tmp/cmp.gguf", "")
	flag.Parse()
	m, err := modelfile.Open(*src, nil)
	if err != nil {
		panic(err)
	}
	tok, _ := tokenizer.New(m.Vocab)
	ft, _ := plan.ParseFileType(*ftS)
	o := quantize.Options{AWQ: quantize.AWQOptions{NoClip: os.Getenv("NOCLIP") != ""}, FileType: ft, Method: quantize.Method(*method), Pure: *pure, NoResume: true, Log: func(s string) { fmt.Fprintln(os.Stderr, s) }}
	if *calib != "" {
		t, err := eval.ReadText(*calib, tok)
		if err != nil {
			panic(err)
		}
		o.Calib = &quantize.Calibration{Name: *calib, Tokens: t.Tokens, BOS: t.BOS, Context: 256, Chunks: *chunks}
	}
	t0 := time.Now()
	r, err := quantize.Run(context.Background(), m, *out, o)
	if err != nil {
		panic(err)
	}
	pprof.StopCPUProfile()
	fmt.Printf("quantized in %.1fs (calib %.1fs), %d bytes, %.3f bpw\n", time.Since(t0).Seconds(), r.CalibSeconds, r.Bytes, r.BPW)
	base, _ := model.Load(m, model.Options{})
	qf, err := modelfile.Open(*out, nil)
	if err != nil {
		panic(err)
	}
	qm, err := model.Load(qf, model.Options{})
	if err != nil {
		panic(err)
	}
	text, _ := eval.ReadText("/work/shared/text/gutenberg/pg98.txt", tok)
	k, err := eval.KLDModels(context.Background(), base, qm, text, eval.Options{Context: 256, Chunks: *evalChunks})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s: PPL %.4f (base %.4f) KLD %.6f same-top %.3f%%\n", *ftS, *method, k.PPL.Value, k.BasePPL.Value, k.KLD.Value, 100*k.SameTop.Value)
}

func init() {
	if p := os.Getenv("CPUPROF"); p != "" {
		f, _ := os.Create(p)
		pprof.StartCPUProfile(f)
		
	}
}
