package modelfile

import (
	"encoding/json"
	"path/filepath"

	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

// Quantized Hugging Face checkpoints (GPTQ, compressed-tensors) and the
// hooks the quantized writers of package hfquant share with WriteHF.

// hfTensors returns the tensors of an HF folder as Open presents them.
// When config.json has a quantization_config (GPTQ or compressed-tensors,
// see package hfquant/spec), every quantized linear layer becomes a dense
// F32 tensor "<module>.weight" whose bytes are dequantized on each read
// (exact: scale × (code − zero) in float32), the auxiliary tensors and
// activation-quantization parameters are dropped, and quantization_config
// is removed from hc, since the canonical model is dense: writing it back
// out gives a dense model. The engine therefore runs such a folder on its
// F32 kernels, holding 4 bytes per weight.
func hfTensors(dir string, hc *hf.Config, st *safetensors.Model) ([]safetensors.TensorInfo, func(string) ([]byte, error), error) {
	raw, ok := hc.Extra["quantization_config"]
	if !ok || string(raw) == "null" {
		return st.Tensors(), st.Data, nil
	}
	v, err := spec.NewView(filepath.Join(dir, "config.json"), st, raw)
	if err != nil {
		return nil, nil, err
	}
	extra := make(map[string]json.RawMessage, len(hc.Extra))
	for k, x := range hc.Extra {
		if k != "quantization_config" {
			extra[k] = x
		}
	}
	hc.Extra = extra
	return v.Tensors(), v.Data, nil
}

// HFFolderConfig returns the config.json that WriteHF writes for m when
// its weights are stored in dtype d (torch_dtype, BOS/EOS from the
// vocabulary, m.HFConfig's other fields kept). Package hfquant adds a
// quantization_config to it.
func HFFolderConfig(m *Model, d tensor.DType) *hf.Config {
	hc := m.Config.HFConfig(m.HFConfig)
	hc.TorchDtype = map[tensor.DType]string{tensor.F32: "float32", tensor.F16: "float16", tensor.BF16: "bfloat16"}[d]
	if m.Vocab != nil {
		if m.Vocab.BOS >= 0 {
			hc.BOSTokenID = float64(m.Vocab.BOS)
		}
		if m.Vocab.EOS >= 0 && hc.EOSTokenID == nil {
			hc.EOSTokenID = float64(m.Vocab.EOS)
		}
	}
	return hc
}

// HFGenerationConfig returns the generation_config.json WriteHF writes:
// the source's, or one holding the vocabulary's BOS and EOS ids.
func HFGenerationConfig(m *Model) []byte {
	if m.HFGeneration != nil {
		return m.HFGeneration
	}
	g := map[string]any{}
	if m.Vocab != nil && m.Vocab.BOS >= 0 {
		g["bos_token_id"] = m.Vocab.BOS
	}
	if m.Vocab != nil && m.Vocab.EOS >= 0 {
		g["eos_token_id"] = m.Vocab.EOS
	}
	gen, _ := json.MarshalIndent(g, "", "  ")
	return append(gen, '\n')
}
