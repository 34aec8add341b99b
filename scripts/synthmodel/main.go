// Command synthmodel writes a synthetic Llama-architecture Hugging Face
// folder (config.json + model.safetensors) of about the requested size, with
// pseudo-random weights, for conversion benchmarks on models larger than the
// ones in ../shared. It streams: memory stays near one tensor.
//
//	go run ./scripts/synthmodel -o /tmp/synth1g -layers 9 -dtype bf16
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

func main() {
	out := flag.String("o", "", "output folder (required)")
	dim := flag.Int("dim", 2048, "hidden size")
	ffn := flag.Int("ffn", 5632, "feed-forward size")
	layers := flag.Int("layers", 9, "layers (9 at the defaults gives about 1 GB in BF16)")
	heads := flag.Int("heads", 32, "attention heads")
	kvHeads := flag.Int("kv-heads", 4, "key/value heads")
	vocab := flag.Int("vocab", 32000, "vocabulary size")
	dtypeName := flag.String("dtype", "bf16", "f32, f16 or bf16")
	flag.Parse()
	if *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	dt, err := tensor.ParseDType(*dtypeName)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	hd := *dim / *heads
	cfg := &hf.Config{Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama", HiddenSize: *dim,
		IntermediateSize: *ffn, NumHiddenLayers: *layers, NumAttentionHeads: *heads, NumKeyValueHeads: *kvHeads,
		HeadDim: hd, HiddenAct: "silu", VocabSize: *vocab, MaxPositionEmbeddings: 2048, RMSNormEps: 1e-5,
		RopeTheta: 10000, TorchDtype: map[tensor.DType]string{tensor.F32: "float32", tensor.F16: "float16", tensor.BF16: "bfloat16"}[dt]}
	b, err := cfg.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "config.json"), b, 0o644); err != nil {
		log.Fatal(err)
	}
	var infos []safetensors.TensorInfo
	add := func(name string, shape ...int64) {
		infos = append(infos, safetensors.TensorInfo{Name: name, DType: dt, Shape: shape})
	}
	d, f, v, q, kv := int64(*dim), int64(*ffn), int64(*vocab), int64(*heads*hd), int64(*kvHeads*hd)
	add("lm_head.weight", v, d)
	add("model.embed_tokens.weight", v, d)
	for l := 0; l < *layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", d)
		add(p+"mlp.down_proj.weight", d, f)
		add(p+"mlp.gate_proj.weight", f, d)
		add(p+"mlp.up_proj.weight", f, d)
		add(p+"post_attention_layernorm.weight", d)
		add(p+"self_attn.k_proj.weight", kv, d)
		add(p+"self_attn.o_proj.weight", d, q)
		add(p+"self_attn.q_proj.weight", q, d)
		add(p+"self_attn.v_proj.weight", kv, d)
	}
	add("model.norm.weight", d)
	fh, err := os.Create(filepath.Join(*out, "model.safetensors"))
	if err != nil {
		log.Fatal(err)
	}
	bw := bufio.NewWriterSize(fh, 1<<20)
	w, err := safetensors.NewWriter(bw, map[string]string{"format": "pt"}, infos)
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	for _, ti := range infos {
		n := ti.NumElements()
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(rng.NormFloat64() * 0.02)
		}
		data := make([]byte, n*int64(dt.Size()))
		if err := tensor.EncodeF32(data, dt, vals); err != nil {
			log.Fatal(err)
		}
		if err := w.WriteTensor(ti.Name, data); err != nil {
			log.Fatal(err)
		}
		total += int64(len(data))
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %s: %d tensors, %.1f MB of weights\n", *out, len(infos), float64(total)/1e6)
}
