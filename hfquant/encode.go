package hfquant

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lmc-project/lmc/tensor"
)

// quantizedMagic starts an encoded Quantized (version 1).
const quantizedMagic = "LMCQINT1"

// EncodeQuantized serializes q exactly (codes, float32 scales bit for bit,
// zero points, g_idx), for checkpoints of a run in progress: a resumed run
// decodes the same matrix and writes the same bytes.
func EncodeQuantized(q *Quantized) []byte {
	g := len(q.Scales)
	n := len(quantizedMagic) + 8*4 + len(q.Codes) + 4*g + len(q.Zeros) + 4*len(q.GIdx)
	b := make([]byte, 0, n)
	b = append(b, quantizedMagic...)
	sym := uint32(0)
	if q.Scheme.Sym {
		sym = 1
	}
	for _, v := range []uint32{uint32(q.Rows), uint32(q.Cols), uint32(q.Scheme.Bits), uint32(int32(q.Scheme.GroupSize)), sym,
		uint32(q.Scheme.ScaleDType), uint32(g), uint32(len(q.GIdx))} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = append(b, q.Codes...)
	for _, s := range q.Scales {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
	}
	b = append(b, q.Zeros...)
	for _, v := range q.GIdx {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// DecodeQuantized reverses EncodeQuantized. It checks the lengths against
// the header, not the values.
func DecodeQuantized(b []byte) (*Quantized, error) {
	h := len(quantizedMagic) + 8*4
	if len(b) < h || string(b[:len(quantizedMagic)]) != quantizedMagic {
		return nil, fmt.Errorf("hfquant: not an encoded quantized matrix")
	}
	var v [8]uint32
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(b[len(quantizedMagic)+4*i:])
	}
	rows, cols, g, ng := int(v[0]), int(v[1]), int(v[6]), int(v[7])
	q := &Quantized{Rows: rows, Cols: cols, Scheme: Scheme{Bits: int(v[2]), GroupSize: int(int32(v[3])), Sym: v[4] == 1, ScaleDType: tensor.DType(v[5])}}
	if rows <= 0 || cols <= 0 || int64(rows)*int64(cols) > int64(len(b)) || g > len(b) || ng > len(b) ||
		g%rows != 0 || (ng != 0 && ng != cols) || len(b) != h+rows*cols+5*g+4*ng {
		return nil, fmt.Errorf("hfquant: encoded quantized matrix of %d bytes does not match its header (%d × %d, %d scales, %d g_idx)", len(b), rows, cols, g, ng)
	}
	p := b[h:]
	q.Codes = append([]uint8(nil), p[:rows*cols]...)
	p = p[rows*cols:]
	q.Scales = make([]float32, g)
	for i := range q.Scales {
		q.Scales[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	p = p[4*g:]
	q.Zeros = append([]uint8(nil), p[:g]...)
	p = p[g:]
	if ng > 0 {
		q.GIdx = make([]int32, ng)
		for i := range q.GIdx {
			q.GIdx[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
		}
	}
	return q, nil
}
