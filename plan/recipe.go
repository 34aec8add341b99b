package plan

// This file is the per-tensor type chooser of llama.cpp's llama-quantize
// (src/llama-quant.cpp, llama_tensor_get_type and its fallback, as of commit
// c392e509, February 2025, the build that made the reference files in
// ../shared). The quantizer can share it as its recipe table: given a file
// type (q4_k_m...), a tensor's GGUF name and shape, and a few facts about the
// model, TensorType returns the ggml type llama-quantize would store.

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
)

// FileType is a llama.cpp file type (enum llama_ftype), the value of the GGUF
// key general.file_type: a named mix of per-tensor types.
type FileType int

// The llama.cpp file types. The numbers are llama_ftype's.
const (
	FileTypeF32      FileType = 0
	FileTypeF16      FileType = 1
	FileTypeQ4_0     FileType = 2
	FileTypeQ4_1     FileType = 3
	FileTypeQ8_0     FileType = 7
	FileTypeQ5_0     FileType = 8
	FileTypeQ5_1     FileType = 9
	FileTypeQ2_K     FileType = 10
	FileTypeQ3_K_S   FileType = 11
	FileTypeQ3_K_M   FileType = 12
	FileTypeQ3_K_L   FileType = 13
	FileTypeQ4_K_S   FileType = 14
	FileTypeQ4_K_M   FileType = 15
	FileTypeQ5_K_S   FileType = 16
	FileTypeQ5_K_M   FileType = 17
	FileTypeQ6_K     FileType = 18
	FileTypeIQ2_XXS  FileType = 19
	FileTypeIQ2_XS   FileType = 20
	FileTypeQ2_K_S   FileType = 21
	FileTypeIQ3_XS   FileType = 22
	FileTypeIQ3_XXS  FileType = 23
	FileTypeIQ1_S    FileType = 24
	FileTypeIQ4_NL   FileType = 25
	FileTypeIQ3_S    FileType = 26
	FileTypeIQ3_M    FileType = 27
	FileTypeIQ2_S    FileType = 28
	FileTypeIQ2_M    FileType = 29
	FileTypeIQ4_XS   FileType = 30
	FileTypeIQ1_M    FileType = 31
	FileTypeBF16     FileType = 32
	FileTypeTQ1_0    FileType = 36
	FileTypeTQ2_0    FileType = 37
	FileTypeMXFP4MoE FileType = 38
)

type fileTypeInfo struct {
	name string    // llama-quantize's spelling
	def  gguf.Type // llama_model_quantize_impl's default_type
}

var fileTypes = map[FileType]fileTypeInfo{
	FileTypeF32:      {"F32", gguf.TypeF32},
	FileTypeF16:      {"F16", gguf.TypeF16},
	FileTypeBF16:     {"BF16", gguf.TypeBF16},
	FileTypeQ4_0:     {"Q4_0", gguf.TypeQ4_0},
	FileTypeQ4_1:     {"Q4_1", gguf.TypeQ4_1},
	FileTypeQ5_0:     {"Q5_0", gguf.TypeQ5_0},
	FileTypeQ5_1:     {"Q5_1", gguf.TypeQ5_1},
	FileTypeQ8_0:     {"Q8_0", gguf.TypeQ8_0},
	FileTypeQ2_K:     {"Q2_K", gguf.TypeQ2_K},
	FileTypeQ2_K_S:   {"Q2_K_S", gguf.TypeQ2_K},
	FileTypeQ3_K_S:   {"Q3_K_S", gguf.TypeQ3_K},
	FileTypeQ3_K_M:   {"Q3_K_M", gguf.TypeQ3_K},
	FileTypeQ3_K_L:   {"Q3_K_L", gguf.TypeQ3_K},
	FileTypeQ4_K_S:   {"Q4_K_S", gguf.TypeQ4_K},
	FileTypeQ4_K_M:   {"Q4_K_M", gguf.TypeQ4_K},
	FileTypeQ5_K_S:   {"Q5_K_S", gguf.TypeQ5_K},
	FileTypeQ5_K_M:   {"Q5_K_M", gguf.TypeQ5_K},
	FileTypeQ6_K:     {"Q6_K", gguf.TypeQ6_K},
	FileTypeIQ2_XXS:  {"IQ2_XXS", gguf.TypeIQ2_XXS},
	FileTypeIQ2_XS:   {"IQ2_XS", gguf.TypeIQ2_XS},
	FileTypeIQ2_S:    {"IQ2_S", gguf.TypeIQ2_XS},
	FileTypeIQ2_M:    {"IQ2_M", gguf.TypeIQ2_S},
	FileTypeIQ3_XXS:  {"IQ3_XXS", gguf.TypeIQ3_XXS},
	FileTypeIQ3_XS:   {"IQ3_XS", gguf.TypeIQ3_S},
	FileTypeIQ3_S:    {"IQ3_S", gguf.TypeIQ3_S},
	FileTypeIQ3_M:    {"IQ3_M", gguf.TypeIQ3_S},
	FileTypeIQ1_S:    {"IQ1_S", gguf.TypeIQ1_S},
	FileTypeIQ1_M:    {"IQ1_M", gguf.TypeIQ1_M},
	FileTypeIQ4_NL:   {"IQ4_NL", gguf.TypeIQ4_NL},
	FileTypeIQ4_XS:   {"IQ4_XS", gguf.TypeIQ4_XS},
	FileTypeTQ1_0:    {"TQ1_0", gguf.TypeTQ1_0},
	FileTypeTQ2_0:    {"TQ2_0", gguf.TypeTQ2_0},
	FileTypeMXFP4MoE: {"MXFP4_MOE", gguf.TypeMXFP4},
}

// fileTypeAliases are llama-quantize's short names for the medium mixes.
var fileTypeAliases = map[string]FileType{"Q3_K": FileTypeQ3_K_M, "Q4_K": FileTypeQ4_K_M, "Q5_K": FileTypeQ5_K_M}

// String returns llama-quantize's name ("Q4_K_M"), or "FTYPE(N)".
func (ft FileType) String() string {
	if in, ok := fileTypes[ft]; ok {
		return in.name
	}
	return "FTYPE(" + strconv.Itoa(int(ft)) + ")"
}

// Known reports whether ft is a file type in the table.
func (ft FileType) Known() bool { _, ok := fileTypes[ft]; return ok }

// DefaultType returns the ggml type llama-quantize starts every quantizable
// tensor from (Q4_K for Q4_K_M; IQ2_XS for IQ2_S), or false for an unknown
// file type.
func (ft FileType) DefaultType() (gguf.Type, bool) {
	in, ok := fileTypes[ft]
	return in.def, ok
}

// FileTypes lists the known file types in numeric order.
func FileTypes() []FileType {
	var out []FileType
	for ft := range fileTypes {
		out = append(out, ft)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ParseFileType returns the file type named s, case-insensitively, with
// llama-quantize's aliases (Q3_K, Q4_K and Q5_K mean the _M mixes).
func ParseFileType(s string) (FileType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if ft, ok := fileTypeAliases[u]; ok {
		return ft, nil
	}
	for ft, in := range fileTypes {
		if in.name == u {
			return ft, nil
		}
	}
	return 0, fmt.Errorf("plan: unknown llama.cpp file type %q", s)
}

// QuantModel is what llama-quantize knows about the model when it picks a
// tensor's type.
type QuantModel struct {
	// Arch is the GGUF architecture ("llama", "qwen2", "falcon"...); only
	// "falcon" changes choices.
	Arch string
	// Layers is the number of transformer blocks (hparams.n_layer).
	Layers int
	// Experts is the number of experts of an MoE model (0 or 1 when dense).
	Experts int
	// GQA is the number of query heads per KV head (hparams.n_gqa()).
	GQA int
	// Type70B reports whether llama.cpp classifies the model as a 70B
	// (LLM_TYPE_70B: llama with 80 layers and GQA, qwen2 with 80 layers),
	// which gets its attn_v bumped; see [Is70B].
	Type70B bool
	// HasOutput reports whether the model has its own output.weight; when
	// false the embeddings are tied and token_embd.weight is quantized as
	// the output matrix.
	HasOutput bool
	// Imatrix reports that an importance matrix is used (it changes a few
	// IQ choices).
	Imatrix bool
	// Pure is llama-quantize --pure: every quantizable tensor gets the file
	// type's default type, with no per-tensor rules and no fallback.
	Pure bool
}

// Is70B reports whether llama.cpp's model-type detection calls a model of this
// architecture a 70B (llm_load_hparams: llama with 80 layers and fewer KV heads
// than heads, qwen2 with 80 layers).
func Is70B(arch string, layers, heads, kvHeads int) bool {
	switch arch {
	case "llama":
		return layers == 80 && heads != kvHeads
	case "qwen2":
		return layers == 80
	}
	return false
}

// ErrIncompatible is returned (wrapped in a *RowError) when a tensor's rows
// cannot be stored in the chosen type and llama.cpp has no fallback.
var ErrIncompatible = errors.New("row length not divisible by the block size")

// RowError reports a tensor whose rows do not divide into the blocks of a
// type, with no fallback.
type RowError struct {
	Tensor string
	Row    int64
	Type   gguf.Type
	Why    string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("%s: rows of %d are not a multiple of %s's block of %d (%s)",
		e.Tensor, e.Row, e.Type, e.Type.BlockSize(), e.Why)
}

func (e *RowError) Unwrap() error { return ErrIncompatible }

// Choice is TensorType's answer with the reasoning kept.
type Choice struct {
	Type      gguf.Type // the type stored
	Quantized bool      // llama-quantize quantizes this tensor (otherwise Type is the source type)
	Wanted    gguf.Type // the type the mix asked for, before any fallback
	Fallback  bool      // Wanted did not fit the rows and Type is llama.cpp's fallback
}

// TensorType returns the ggml type llama-quantize stores for the tensor name
// (GGUF name, "blk.3.attn_v.weight") of shape (PyTorch order: the last
// element is the row length, ggml's ne[0]) and source type src, in a file of
// type ft. Tensors llama-quantize does not quantize (norms, biases, 1-D
// tensors, MoE routers) keep src. The error, a *RowError wrapping
// ErrIncompatible, reports rows that fit neither the wanted type nor any
// fallback (llama.cpp refuses to quantize such a file).
func TensorType(ft FileType, name string, shape []int64, src gguf.Type, m QuantModel) (gguf.Type, error) {
	c, err := ChooseTensorType(ft, name, shape, src, m)
	return c.Type, err
}

// ChooseTensorType is [TensorType] with the wanted type and whether a
// fallback was taken.
func ChooseTensorType(ft FileType, name string, shape []int64, src gguf.Type, m QuantModel) (Choice, error) {
	def, ok := ft.DefaultType()
	if !ok {
		return Choice{Type: src}, fmt.Errorf("plan: unknown file type %d", int(ft))
	}
	if !quantizable(name, shape) {
		return Choice{Type: src, Wanted: src}, nil
	}
	row := int64(0)
	if len(shape) > 0 {
		row = shape[len(shape)-1]
	}
	t := def
	if !def.Quantized() || m.Pure {
		c := Choice{Type: t, Wanted: t, Quantized: true}
		if row%t.BlockSize() != 0 {
			return c, &RowError{Tensor: name, Row: row, Type: t, Why: "no per-tensor fallback with --pure"}
		}
		return c, nil
	}
	t = mixType(ft, t, name, shape, m)
	c := Choice{Type: t, Wanted: t, Quantized: true}
	if row%t.BlockSize() == 0 {
		return c, nil
	}
	// convert_incompatible_tensor in llama_tensor_get_type.
	var fb gguf.Type
	switch t {
	case gguf.TypeTQ1_0, gguf.TypeTQ2_0:
		fb = gguf.TypeQ4_0
	case gguf.TypeIQ2_XXS, gguf.TypeIQ2_XS, gguf.TypeIQ2_S, gguf.TypeIQ3_XXS, gguf.TypeIQ3_S,
		gguf.TypeIQ1_S, gguf.TypeIQ1_M, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ4_XS:
		fb = gguf.TypeIQ4_NL
	case gguf.TypeQ4_K:
		fb = gguf.TypeQ5_0
	case gguf.TypeQ5_K:
		fb = gguf.TypeQ5_1
	case gguf.TypeQ6_K:
		fb = gguf.TypeQ8_0
	default:
		return c, &RowError{Tensor: name, Row: row, Type: t, Why: "llama.cpp has no fallback for " + t.String()}
	}
	if row%fb.BlockSize() != 0 {
		fb = gguf.TypeF16
	}
	c.Type, c.Fallback = fb, true
	return c, nil
}

// quantizable is llama_model_quantize_impl's filter: 2-D and 3-D weights,
// except norms, MoE routers and a few small tensors of other architectures.
func quantizable(name string, shape []int64) bool {
	dims := len(shape)
	for dims > 0 && shape[len(shape)-dims] == 1 { // ggml_n_dims ignores trailing ne of 1
		dims--
	}
	if dims < 2 || !strings.HasSuffix(name, "weight") || strings.Contains(name, "_norm.weight") {
		return false
	}
	for _, s := range []string{"ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj",
		"ssm_conv1d.weight", "attn_rel_b.weight", "time_mix_first.weight", "time_mix_w1.weight",
		"time_mix_w2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight"} {
		if strings.Contains(name, s) {
			return false
		}
	}
	return name != "position_embd.weight" && name != "token_types.weight"
}

func useMoreBits(i, n int) bool { return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2 }

// mixType is the body of llama_tensor_get_type before the fallback. The
// per-kind counters of llama.cpp (i_attention_wv, i_ffn_down...) count
// tensors in llama_model_loader's order, which sorts by layer number, so for
// one tensor of a kind per layer they equal the layer number read from the
// name; MoE models read it from the name in llama.cpp too.
func mixType(ft FileType, t gguf.Type, name string, shape []int64, m QuantModel) gguf.Type {
	falcon := m.Arch == "falcon"
	layer := hf.Layer(name)
	n := m.Layers
	row := int64(0)
	if len(shape) > 0 {
		row = shape[len(shape)-1]
	}
	in := func(fts ...FileType) bool {
		for _, f := range fts {
			if ft == f {
				return true
			}
		}
		return false
	}
	switch {
	case name == "output.weight" || (!m.HasOutput && name == "token_embd.weight"):
		switch {
		case ft == FileTypeMXFP4MoE:
			return gguf.TypeQ8_0
		case falcon || row%t.BlockSize() != 0:
			return gguf.TypeQ8_0
		case in(FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ3_XXS, FileTypeIQ1_S, FileTypeIQ2_S, FileTypeIQ2_M, FileTypeIQ1_M):
			return gguf.TypeQ5_K
		case t != gguf.TypeQ8_0:
			return gguf.TypeQ6_K
		}
		return t
	case ft == FileTypeMXFP4MoE:
		if len(shape) >= 3 && shape[0] > 1 {
			return gguf.TypeMXFP4
		}
		return gguf.TypeQ8_0
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		switch {
		case in(FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ1_S, FileTypeIQ1_M):
			return gguf.TypeQ2_K
		case in(FileTypeIQ2_S, FileTypeIQ2_M, FileTypeIQ3_XXS):
			return gguf.TypeIQ3_S
		case in(FileTypeTQ1_0, FileTypeTQ2_0):
			return gguf.TypeQ4_K
		}
		return t
	case in(FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ1_S, FileTypeIQ2_S, FileTypeIQ2_M, FileTypeIQ1_M):
		iq3 := in(FileTypeIQ2_S, FileTypeIQ2_M)
		switch {
		case strings.Contains(name, "attn_v.weight"):
			if m.GQA >= 4 || m.Experts >= 4 {
				return gguf.TypeQ4_K
			}
			if iq3 {
				return gguf.TypeIQ3_S
			}
			return gguf.TypeQ2_K
		case m.Experts == 8 && strings.Contains(name, "attn_k.weight"):
			return gguf.TypeQ4_K
		case strings.Contains(name, "ffn_down"):
			if layer < n/8 {
				if iq3 {
					return gguf.TypeIQ3_S
				}
				return gguf.TypeQ2_K
			}
		case strings.Contains(name, "attn_output.weight"):
			if m.Experts == 8 {
				return gguf.TypeQ5_K
			}
			if in(FileTypeIQ1_S, FileTypeIQ1_M) {
				return gguf.TypeIQ2_XXS
			}
			if iq3 {
				return gguf.TypeIQ3_S
			}
		}
		return t
	case strings.Contains(name, "attn_v.weight"):
		i := layer
		switch {
		case ft == FileTypeQ2_K:
			t = gguf.TypeQ3_K
			if m.GQA >= 4 {
				t = gguf.TypeQ4_K
			}
		case ft == FileTypeQ2_K_S && m.GQA >= 4:
			t = gguf.TypeQ4_K
		case ft == FileTypeIQ3_XXS:
			switch {
			case m.GQA >= 4:
				t = gguf.TypeQ4_K
			case !m.Imatrix:
				t = gguf.TypeIQ3_S
			default:
				t = gguf.TypeIQ3_XXS
			}
		case in(FileTypeIQ3_XS, FileTypeIQ3_S) && m.GQA >= 4:
			t = gguf.TypeQ4_K
		case ft == FileTypeIQ3_M:
			t = gguf.TypeQ4_K
		case ft == FileTypeQ3_K_M:
			t = gguf.TypeQ4_K
			if i < 2 {
				t = gguf.TypeQ5_K
			}
		case ft == FileTypeQ3_K_L:
			t = gguf.TypeQ5_K
		case in(FileTypeIQ4_NL, FileTypeIQ4_XS) && m.GQA >= 4:
			t = gguf.TypeQ5_K
		case in(FileTypeQ4_K_M, FileTypeQ5_K_M) && useMoreBits(i, n):
			t = gguf.TypeQ6_K
		case ft == FileTypeQ4_K_S && i < 4:
			t = gguf.TypeQ5_K
		}
		if m.Type70B && (t == gguf.TypeQ3_K || t == gguf.TypeQ4_K) {
			t = gguf.TypeQ5_K
		}
		if m.Experts == 8 {
			t = gguf.TypeQ8_0
		}
		return t
	case strings.Contains(name, "attn_k.weight"):
		switch {
		case m.Experts == 8:
			return gguf.TypeQ8_0
		case ft == FileTypeIQ3_XS:
			return gguf.TypeIQ3_XXS
		case ft == FileTypeIQ3_XXS:
			return gguf.TypeIQ2_S
		}
		return t
	case strings.Contains(name, "attn_q.weight"):
		switch ft {
		case FileTypeIQ3_XS:
			return gguf.TypeIQ3_XXS
		case FileTypeIQ3_XXS:
			return gguf.TypeIQ2_S
		}
		return t
	case strings.Contains(name, "ffn_down"):
		i := layer
		switch {
		case ft == FileTypeQ2_K:
			return gguf.TypeQ3_K
		case ft == FileTypeQ2_K_S:
			if i < n/8 {
				return gguf.TypeQ4_K
			}
		case ft == FileTypeIQ3_XXS && !m.Imatrix:
			if i < n/8 {
				return gguf.TypeQ4_K
			}
			return gguf.TypeQ3_K
		case ft == FileTypeQ3_K_M:
			switch {
			case i < n/16:
				return gguf.TypeQ5_K
			case !falcon || useMoreBits(i, n):
				return gguf.TypeQ4_K
			}
			return gguf.TypeQ3_K
		case ft == FileTypeIQ3_M && (i < n/8 || (m.Experts == 8 && useMoreBits(i, n))):
			return gguf.TypeQ4_K
		case ft == FileTypeQ3_K_L:
			if falcon {
				return gguf.TypeQ4_K
			}
			return gguf.TypeQ5_K
		case ft == FileTypeQ4_K_M:
			if falcon {
				switch {
				case i < n/16:
					return gguf.TypeQ6_K
				case useMoreBits(i, n):
					return gguf.TypeQ5_K
				}
				return gguf.TypeQ4_K
			}
			if useMoreBits(i, n) {
				return gguf.TypeQ6_K
			}
		case i < n/8 && in(FileTypeIQ4_NL, FileTypeIQ4_XS) && !m.Imatrix:
			return gguf.TypeQ5_K
		case ft == FileTypeQ5_K_M && useMoreBits(i, n):
			return gguf.TypeQ6_K
		case ft == FileTypeQ4_K_S && !falcon && i < n/8:
			return gguf.TypeQ5_K
		case in(FileTypeQ4_0, FileTypeQ5_0) && m.Imatrix && i < n/8:
			if ft == FileTypeQ4_0 {
				return gguf.TypeQ4_1
			}
			return gguf.TypeQ5_1
		}
		return t
	case strings.Contains(name, "attn_output.weight"):
		if falcon {
			if ft == FileTypeQ3_K_L {
				return gguf.TypeQ4_K
			}
			return t
		}
		if m.Experts == 8 {
			if in(FileTypeQ2_K, FileTypeIQ3_XS, FileTypeIQ3_XXS, FileTypeQ3_K_S, FileTypeQ3_K_M, FileTypeIQ4_NL,
				FileTypeQ4_K_S, FileTypeQ4_K_M, FileTypeIQ3_S, FileTypeIQ3_M, FileTypeIQ4_XS) {
				return gguf.TypeQ5_K
			}
			return t
		}
		switch ft {
		case FileTypeQ2_K:
			return gguf.TypeQ3_K
		case FileTypeIQ3_XXS:
			return gguf.TypeIQ3_S
		case FileTypeQ3_K_M, FileTypeIQ3_M:
			return gguf.TypeQ4_K
		case FileTypeQ3_K_L:
			return gguf.TypeQ5_K
		}
		return t
	case strings.Contains(name, "attn_qkv.weight"):
		switch ft {
		case FileTypeQ3_K_M, FileTypeQ3_K_L, FileTypeIQ3_M:
			return gguf.TypeQ4_K
		case FileTypeQ4_K_M:
			return gguf.TypeQ5_K
		case FileTypeQ5_K_M:
			return gguf.TypeQ6_K
		}
		return t
	case strings.Contains(name, "ffn_gate") || strings.Contains(name, "ffn_up"):
		if ft == FileTypeIQ3_XS && layer >= n/8 && layer < 7*n/8 {
			return gguf.TypeIQ3_XXS
		}
		return t
	}
	return t
}
