package quantize

import (
	"time"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/plan"
	"github.com/lmc-project/lmc/quant/imatrix"
)

// Method is how weights are rounded.
type Method string

// The methods.
const (
	// MethodRTN rounds each block on its own: llama.cpp's reference
	// quantizers, or its importance-weighted ones when an importance
	// matrix is given (or computed from Options.Calib).
	MethodRTN Method = "rtn"
	// MethodGPTQ quantizes column by column and spreads each column's
	// rounding error over the columns not yet quantized, weighted by the
	// inverse Hessian of the layer's calibration inputs (package gptq).
	MethodGPTQ Method = "gptq"
	// MethodAWQ scales input channels by their activation magnitude before
	// rounding (folding the inverse scales into the preceding norm or
	// linear layer) and clips outliers (package awq).
	MethodAWQ Method = "awq"
)

// Format is the output file format.
type Format string

// The output formats.
const (
	FormatGGUF              Format = "gguf"               // llama.cpp, ollama
	FormatGPTQ              Format = "gptq"               // HF folder, quant_method "gptq" (vLLM, transformers)
	FormatCompressedTensors Format = "compressed-tensors" // HF folder, pack-quantized (vLLM)
)

// Calibration is the text that calibrated methods (and an importance
// matrix computed on the fly) run the model on.
type Calibration struct {
	Name   string // the file, for reports and imatrix.datasets
	Tokens []int  // the whole text, tokenized with BOS first
	BOS    int    // replaces the first token of every chunk (-1: none)
	// Context is the chunk length (default 512, llama-imatrix's) and Chunks
	// the most chunks used (0: all).
	Context, Chunks int
}

// Options configure a quantization run. The zero value with a FileType
// quantizes like llama-quantize.
type Options struct {
	// FileType is llama-quantize's mix (Q4_K_M, Q8_0, …).
	FileType plan.FileType
	// Pure stores every quantizable tensor in the mix's default type
	// (llama-quantize --pure), with lmc's fallback where rows do not fit.
	Pure bool
	// TensorTypes force types by tensor name (--tensor-type); OutputType
	// and EmbeddingType force output.weight's and token_embd.weight's.
	TensorTypes               []TensorRule
	OutputType, EmbeddingType *gguf.Type
	// AllowRequantize lets already-quantized tensors be requantized.
	AllowRequantize bool
	// Imatrix weights each column's rounding error (llama-quantize
	// --imatrix); ImatrixFile names it in the output's metadata.
	Imatrix     *imatrix.Matrix
	ImatrixFile string
	// Method is RTN (default), GPTQ or AWQ; the calibrated methods need
	// Calib. With RTN, Calib computes an importance matrix first.
	Method Method
	Calib  *Calibration
	// Format is the output format (default GGUF). GPTQ and
	// compressed-tensors outputs are Hugging Face folders holding integer
	// grids (Grid); FileType is then ignored.
	Format Format
	// Grid is the integer grid of the GPTQ and compressed-tensors formats
	// (and of in-memory integer quantization): bits, group size, symmetry.
	Grid Grid
	// GPTQ and AWQ tune the calibrated methods.
	GPTQ GPTQOptions
	AWQ  AWQOptions
	// Threads is the number of goroutines quantizing (0: all cores).
	Threads int
	// NoResume starts afresh even when a partial output of the same
	// inputs and recipe exists.
	NoResume bool
	// Progress, when set, is called after every tensor.
	Progress func(Progress)
	// Log, when set, receives notes as they happen (fallbacks, imatrix
	// entries missing, calibration passes).
	Log func(string)
}

// Grid is an integer quantization grid for the HF formats.
type Grid struct {
	Bits      int  // 4 or 8 (default 4)
	GroupSize int  // columns per scale (default 128; -1: one per row)
	Asym      bool // asymmetric (a zero point per group); default symmetric
}

// GPTQOptions tune GPTQ (see package gptq for the meaning).
type GPTQOptions struct {
	Damp      float64 // dampening, fraction of the mean Hessian diagonal (default 0.01)
	BlockSize int     // lazy-update block (default 128)
	ActOrder  bool    // desc_act: columns by decreasing Hessian diagonal (integer grids only)
	// OnePass collects a block's four inputs in one calibration pass
	// (faster), instead of re-running the block after each group of
	// linears is quantized (true-sequential, the default, as AutoGPTQ).
	OnePass bool
}

// AWQOptions tune AWQ (see package awq).
type AWQOptions struct {
	Grid   int  // points of the α grid (default 20)
	NoClip bool // skip the clipping search
	Duo    bool // also try AutoAWQ's duo scaling candidates
}

// Progress reports a run after each tensor.
type Progress struct {
	Tensor      string
	Done, Total int   // tensors
	Bytes       int64 // output bytes written so far
	TotalBytes  int64 // output bytes in all
	Elapsed     time.Duration
	Stage       string  // "quantize", "calibrate", "resume"
	Layer       int     // block being calibrated (calibrated methods)
	Fraction    float64 // of the whole run, for ETA
}

// TensorReport is one tensor of the output.
type TensorReport struct {
	Name   string  `json:"name"`
	Shape  []int64 `json:"shape"`
	Src    string  `json:"src_type"`
	Type   string  `json:"type"`
	Wanted string  `json:"wanted_type,omitempty"` // before a fallback
	Bytes  int64   `json:"bytes"`
	Method string  `json:"method,omitempty"` // rtn, imatrix, gptq, awq; "" when copied
	// RMSE is the root mean square of (weight − dequantized weight),
	// RelRMSE the same divided by the weights' RMS.
	RMSE    float64 `json:"rmse,omitempty"`
	RelRMSE float64 `json:"rel_rmse,omitempty"`
	// WeightedRelErr is Σ_j w_j(x−q)² / Σ_j w_j x² with w the importance
	// (mean squared activation) of each column: the share of the layer's
	// output energy the rounding changes, under independent inputs.
	WeightedRelErr float64 `json:"weighted_rel_err,omitempty"`
	// OutputRelErr is tr(E·H·Eᵀ)/tr(W·H·Wᵀ) with H = Σxᵀx over the
	// calibration inputs (calibrated methods): the exact relative squared
	// error of the layer's outputs on the calibration text.
	OutputRelErr float64 `json:"output_rel_err,omitempty"`
	Note         string  `json:"note,omitempty"`
	Resumed      bool    `json:"resumed,omitempty"`
	SHA256       string  `json:"sha256,omitempty"`
}

// Report is the outcome of [Run].
type Report struct {
	Output   string `json:"output"`
	Format   Format `json:"format"`
	FileType string `json:"file_type,omitempty"`
	Method   Method `json:"method"`
	Imatrix  string `json:"imatrix,omitempty"`
	Calib    string `json:"calibration,omitempty"`
	// Tensors lists every tensor in file order.
	Tensors []TensorReport `json:"tensors"`
	// Types counts the stored tensors per type.
	Types map[string]int `json:"types"`
	// Bytes is the output's size, Params the model's parameters and BPW
	// their ratio in bits (metadata and norms included, as llama.cpp's
	// tables compute it).
	Bytes  int64   `json:"bytes"`
	Params int64   `json:"parameters"`
	BPW    float64 `json:"bits_per_weight"`
	// Resumed counts the tensors taken from a partial output.
	Resumed int `json:"resumed_tensors"`
	// Notes are fallbacks and other decisions worth knowing.
	Notes []string `json:"notes,omitempty"`
	// Inputs are the input files with their hashes (for provenance).
	Inputs  []provenance.FileHash `json:"inputs"`
	Seconds float64               `json:"seconds"`
	// CalibSeconds is the time spent running the model on calibration text.
	CalibSeconds float64 `json:"calibration_seconds,omitempty"`
}
