package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A minimal protocol-buffers wire-format reader and writer: just enough for
// SentencePiece's ModelProto, with every length checked against the bytes
// that remain. See https://protobuf.dev/programming-guides/encoding/.

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// pbRecord is one field of a message as it appears on the wire.
type pbRecord struct {
	num  int    // field number
	wire int    // wire type
	val  uint64 // value of a varint, fixed32 or fixed64 field
	data []byte // payload of a length-delimited field (aliases the input)
	raw  []byte // the whole record, tag included (aliases the input)
	off  int64  // offset of the record's first byte in the file
}

// pbDecoder walks the records of one message.
type pbDecoder struct {
	file string // for errors
	msg  string // message path for errors, e.g. "trainer_spec"
	b    []byte
	pos  int
	base int64 // file offset of b[0]
	// names gives field names for errors; others are "field N".
	names map[int]string
	idx   int // when >= 0, the message is element idx of msg (a repeated field)
}

func (d *pbDecoder) errf(off int64, field, format string, args ...any) error {
	msg := d.msg
	if d.idx >= 0 && msg != "" {
		msg = fmt.Sprintf("%s[%d]", msg, d.idx)
	}
	if field == "" {
		field = msg
	} else if msg != "" {
		field = msg + "." + field
	}
	return &FormatError{File: d.file, Off: off, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// varint reads a base-128 varint of at most 10 bytes.
func (d *pbDecoder) varint(what string) (uint64, error) {
	start := d.pos
	var v uint64
	for i := 0; i < 10; i++ {
		if d.pos >= len(d.b) {
			return 0, d.errf(d.base+int64(start), what, "truncated varint")
		}
		c := d.b[d.pos]
		d.pos++
		if i == 9 && c > 1 {
			return 0, d.errf(d.base+int64(start), what, "varint overflows 64 bits")
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, d.errf(d.base+int64(start), what, "varint longer than 10 bytes")
}

// next reads the next record. It returns ok=false at the end of the message.
func (d *pbDecoder) next() (r pbRecord, ok bool, err error) {
	if d.pos >= len(d.b) {
		return r, false, nil
	}
	start := d.pos
	r.off = d.base + int64(start)
	tag, err := d.varint("tag")
	if err != nil {
		return r, false, err
	}
	num := tag >> 3
	if num == 0 || num > math.MaxInt32>>2 {
		return r, false, d.errf(r.off, "tag", "invalid field number %d", num)
	}
	r.num = int(num)
	r.wire = int(tag & 7)
	switch r.wire {
	case wireVarint:
		if r.val, err = d.varint(d.fieldName(r.num)); err != nil {
			return r, false, err
		}
	case wireFixed64:
		if len(d.b)-d.pos < 8 {
			return r, false, d.errf(r.off, d.fieldName(r.num), "truncated fixed64")
		}
		r.val = binary.LittleEndian.Uint64(d.b[d.pos:])
		d.pos += 8
	case wireFixed32:
		if len(d.b)-d.pos < 4 {
			return r, false, d.errf(r.off, d.fieldName(r.num), "truncated fixed32")
		}
		r.val = uint64(binary.LittleEndian.Uint32(d.b[d.pos:]))
		d.pos += 4
	case wireBytes:
		n, err := d.varint(d.fieldName(r.num))
		if err != nil {
			return r, false, err
		}
		if n > uint64(len(d.b)-d.pos) {
			return r, false, d.errf(r.off, d.fieldName(r.num), "length %d exceeds the %d bytes that remain", n, len(d.b)-d.pos)
		}
		r.data = d.b[d.pos : d.pos+int(n)]
		d.pos += int(n)
	default:
		// 3 and 4 are the deprecated groups, which SentencePiece never
		// uses; 6 and 7 are undefined.
		return r, false, d.errf(r.off, d.fieldName(r.num), "unsupported wire type %d", r.wire)
	}
	r.raw = d.b[start:d.pos]
	return r, true, nil
}

func (d *pbDecoder) fieldName(num int) string {
	if name := d.names[num]; name != "" {
		return name
	}
	return fmt.Sprintf("field %d", num)
}

// expect checks a record's wire type.
func (d *pbDecoder) expect(r pbRecord, name string, wire int) error {
	if r.wire != wire {
		return d.errf(r.off, name, "wire type %d, want %d", r.wire, wire)
	}
	return nil
}

// sub returns a decoder over a length-delimited record's payload.
// (msg, idx) name it: the idx'th element of repeated field msg, or just msg
// when idx < 0. The decoder of a sub-message is only used at top level here.
func (d *pbDecoder) sub(r pbRecord, msg string, idx int, names map[int]string) pbDecoder {
	return pbDecoder{file: d.file, msg: msg, idx: idx, b: r.data, base: r.off + int64(len(r.raw)-len(r.data)), names: names}
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTag(b []byte, num, wire int) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(wire))
}

// appendInt32Field writes an int32/enum/bool field: negative values are
// sign-extended to 64 bits (ten bytes), as protobuf does.
func appendInt32Field(b []byte, num int, v int32) []byte {
	b = appendTag(b, num, wireVarint)
	return appendVarint(b, uint64(int64(v)))
}

func appendBoolField(b []byte, num int, v bool) []byte {
	x := int32(0)
	if v {
		x = 1
	}
	return appendInt32Field(b, num, x)
}

func appendBytesField(b []byte, num int, data []byte) []byte {
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

func appendStringField(b []byte, num int, s string) []byte {
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFixed32Field(b []byte, num int, v uint32) []byte {
	b = appendTag(b, num, wireFixed32)
	return binary.LittleEndian.AppendUint32(b, v)
}

// pbReplace returns msg with every record of field num removed and rec (a
// complete encoded record) put in place of the last one removed; when the
// field is absent, rec goes before the first record with a larger field
// number, which is where a protobuf serializer would write it. msg must be a
// well-formed message (it was decoded before).
func pbReplace(msg []byte, num int, rec []byte) []byte {
	d := &pbDecoder{b: msg}
	var recs []pbRecord
	for {
		r, ok, err := d.next()
		if err != nil || !ok {
			break
		}
		recs = append(recs, r)
	}
	last := -1
	for i, r := range recs {
		if r.num == num {
			last = i
		}
	}
	insert := len(recs)
	if last >= 0 {
		insert = last
	} else {
		for i, r := range recs {
			if r.num > num {
				insert = i
				break
			}
		}
	}
	out := make([]byte, 0, len(msg)+len(rec))
	for i, r := range recs {
		if i == insert {
			out = append(out, rec...)
		}
		if r.num != num {
			out = append(out, r.raw...)
		}
	}
	if insert == len(recs) {
		out = append(out, rec...)
	}
	return out
}
