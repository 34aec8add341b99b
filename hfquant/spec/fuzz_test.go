package spec

import (
	"encoding/json"
	"testing"

	"github.com/lmc-project/lmc/tensor"
)

// FuzzView builds checkpoints from a fuzzed config and fuzzed tensor
// shapes and dtypes (data of the declared size, as a safetensors reader
// guarantees) and requires NewView and every decoder to return, never
// panic.
func FuzzView(f *testing.F) {
	f.Add(`{"quant_method":"gptq","bits":4,"group_size":8,"sym":true}`, uint8(1), uint8(8), uint8(1), uint8(8), uint8(0))
	f.Add(`{"quant_method":"gptq","bits":8,"group_size":-1,"sym":false,"checkpoint_format":"gptq_v2"}`, uint8(2), uint8(8), uint8(1), uint8(8), uint8(3))
	f.Add(`{"quant_method":"compressed-tensors","format":"pack-quantized","config_groups":{"g":{"targets":["Linear"],"weights":{"num_bits":4,"type":"int","symmetric":false,"group_size":8,"strategy":"group"}}}}`, uint8(8), uint8(1), uint8(8), uint8(1), uint8(1))
	f.Add(`{"quant_method":"compressed-tensors","format":"float-quantized","config_groups":{"g":{"targets":["Linear"],"weights":{"num_bits":8,"type":"float","symmetric":true,"strategy":"channel"}}}}`, uint8(4), uint8(16), uint8(4), uint8(1), uint8(2))
	f.Fuzz(func(t *testing.T, cfg string, a, b, c, d, kind uint8) {
		dims := func(x uint8) int64 { return int64(x%40) + 0 }
		src := fakeSource{}
		add := func(name string, dt tensor.DType, shape ...int64) {
			n := int64(dt.Size())
			for _, s := range shape {
				n *= s
			}
			src.add(name, dt, shape, make([]byte, n))
		}
		types := []tensor.DType{tensor.I32, tensor.F16, tensor.F32, tensor.U8, tensor.F8E4M3, tensor.I64}
		dt := types[int(kind)%len(types)]
		switch kind % 3 {
		case 0:
			add("m.qweight", tensor.I32, dims(a), dims(b))
			add("m.qzeros", dt, dims(c), dims(d))
			add("m.scales", tensor.F16, dims(c), dims(b))
			add("m.g_idx", tensor.I32, dims(a)*8)
		case 1:
			add("m.weight_packed", tensor.I32, dims(a), dims(b))
			add("m.weight_scale", dt, dims(a), dims(c))
			add("m.weight_zero_point", tensor.I32, dims(d), dims(c))
			add("m.weight_shape", tensor.I64, 2)
			add("m.weight_g_idx", tensor.I32, dims(b))
		default:
			add("m.weight", tensor.F8E4M3, dims(a), dims(b))
			add("m.weight_scale", dt, dims(c), dims(d))
			add("m.weight_global_scale", tensor.F32, 1)
		}
		v, err := NewView("config.json", src, json.RawMessage(cfg))
		if err != nil {
			return
		}
		for name := range v.Layers {
			_, _ = v.Data(name)
		}
	})
}
