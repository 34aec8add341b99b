package tokenizer

import (
	"bytes"
	"fmt"
	"math"
	"os"
)

// MaxSentencePieceSize is the largest tokenizer.model file ReadSentencePiece
// accepts (real ones are under 20 MB).
const MaxSentencePieceSize = 256 << 20

// SentencePiece ModelProto field numbers (sentencepiece_model.proto).
const (
	spModelPieces     = 1
	spModelTrainer    = 2
	spModelNormalizer = 3

	spPiecePiece = 1
	spPieceScore = 2
	spPieceType  = 3

	spTrainerModelType    = 3
	spTrainerVocabSize    = 4
	spTrainerByteFallback = 35
	spTrainerUnkID        = 40
	spTrainerBosID        = 41
	spTrainerEosID        = 42
	spTrainerPadID        = 43
	spTrainerUnkPiece     = 45
	spTrainerBosPiece     = 46
	spTrainerEosPiece     = 47
	spTrainerPadPiece     = 48

	spNormName                   = 1
	spNormCharsmap               = 2
	spNormAddDummyPrefix         = 3
	spNormRemoveExtraWhitespaces = 4
)

// Field names, for errors.
var (
	modelFieldNames = map[int]string{spModelPieces: "pieces", spModelTrainer: "trainer_spec", spModelNormalizer: "normalizer_spec",
		4: "self_test_data", 5: "denormalizer_spec"}
	pieceFieldNames   = map[int]string{spPiecePiece: "piece", spPieceScore: "score", spPieceType: "type"}
	trainerFieldNames = map[int]string{spTrainerModelType: "model_type", spTrainerVocabSize: "vocab_size",
		spTrainerByteFallback: "byte_fallback", spTrainerUnkID: "unk_id", spTrainerBosID: "bos_id",
		spTrainerEosID: "eos_id", spTrainerPadID: "pad_id", spTrainerUnkPiece: "unk_piece",
		spTrainerBosPiece: "bos_piece", spTrainerEosPiece: "eos_piece", spTrainerPadPiece: "pad_piece"}
	normalizerFieldNames = map[int]string{spNormName: "name", spNormCharsmap: "precompiled_charsmap",
		spNormAddDummyPrefix: "add_dummy_prefix", spNormRemoveExtraWhitespaces: "remove_extra_whitespaces"}
)

// SentencePiece TrainerSpec.model_type values.
const (
	spUnigram = 1
	spBPE     = 2
)

// trainerSpec holds the TrainerSpec fields lmc reads, with proto defaults.
type trainerSpec struct {
	modelType                          int32
	vocabSize                          int32
	byteFallback                       bool
	unkID, bosID, eosID, padID         int32
	unkPiece, bosPiece, eosPiece, padP string
}

func defaultTrainerSpec() trainerSpec {
	return trainerSpec{modelType: spUnigram, vocabSize: 8000, unkID: 0, bosID: 1, eosID: 2, padID: -1,
		unkPiece: "<unk>", bosPiece: "<s>", eosPiece: "</s>", padP: "<pad>"}
}

// normalizerSpec holds the NormalizerSpec fields lmc reads.
type normalizerSpec struct {
	name                   string
	addDummyPrefix         bool
	removeExtraWhitespaces bool
}

// spPiece is one decoded piece with its original record.
type spPiece struct {
	piece string
	score uint32 // float32 bits, so -0 and NaN payloads survive
	typ   TokenType
	raw   []byte
}

// spSource is what ReadSentencePiece keeps of the file so that
// WriteSentencePiece can reproduce it byte for byte.
type spSource struct {
	fresh      bool // not read from a file: write new specs
	pieces     []spPiece
	top        [][]byte // top-level records other than pieces, in order
	trainer    []byte   // merged trainer_spec payload, nil when absent
	normalizer []byte   // merged normalizer_spec payload, nil when absent
	trainerAt  int      // index in top of the (first) trainer_spec, -1
	trainerOff int64    // file offset of the first trainer_spec payload
	normOff    int64    // file offset of the first normalizer_spec payload
	normAt     int      // index in top of the (first) normalizer_spec, -1
	ts         trainerSpec
	ns         normalizerSpec
}

// ReadSentencePiece reads a SentencePiece model (tokenizer.model, a
// serialized sentencepiece.ModelProto) into a Vocab of model "llama".
//
// Piece types map one to one onto [TokenType]. The special ids follow the
// SentencePiece runtime: UNK is the piece of type UNKNOWN; BOS, EOS and PAD
// are the pieces named by trainer_spec bos_piece/eos_piece/pad_piece
// ("<s>", "</s>", "<pad>" by default) when those are CONTROL pieces, else -1.
// AddSpacePrefix and RemoveExtraWhitespaces come from normalizer_spec
// (default true). AddBOS/AddEOS are left unset: a tokenizer.model does not
// say. Note that llama.cpp's convert_hf_to_gguf writes SentencePiece
// USER_DEFINED pieces as NORMAL; this reader keeps them USER_DEFINED.
//
// The error is a *FormatError naming the file, offset and field for a
// malformed file.
func ReadSentencePiece(path string) (*Vocab, error) {
	data, err := readFileLimit(path, MaxSentencePieceSize)
	if err != nil {
		return nil, err
	}
	return parseSentencePiece(data, path)
}

// ParseSentencePiece decodes a serialized SentencePiece ModelProto held in
// memory; see [ReadSentencePiece]. The Vocab keeps references into data,
// which must not be modified afterwards.
func ParseSentencePiece(data []byte) (*Vocab, error) {
	return parseSentencePiece(data, "")
}

func readFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, &FormatError{File: path, Off: -1, Msg: fmt.Sprintf("file is %d bytes, more than the %d this reader accepts", st.Size(), limit)}
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if n == len(buf) {
		return buf, nil
	}
	return nil, fmt.Errorf("tokenizer: reading %s: %w", path, err)
}

func parseSentencePiece(data []byte, file string) (*Vocab, error) {
	d := &pbDecoder{file: file, b: data, names: modelFieldNames, idx: -1}
	var trainerParts, normParts [][]byte
	src := &spSource{trainerAt: -1, normAt: -1, ts: defaultTrainerSpec(),
		ns: normalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true}}
	for {
		r, ok, err := d.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch r.num {
		case spModelPieces:
			if err := d.expect(r, "pieces", wireBytes); err != nil {
				return nil, err
			}
			sub := d.sub(r, "pieces", len(src.pieces), pieceFieldNames)
			p, err := decodePiece(&sub)
			if err != nil {
				return nil, err
			}
			p.raw = r.raw
			src.pieces = append(src.pieces, p)
			continue
		case spModelTrainer:
			if err := d.expect(r, "trainer_spec", wireBytes); err != nil {
				return nil, err
			}
			if src.trainerAt < 0 {
				src.trainerAt = len(src.top)
				src.trainerOff = r.off + int64(len(r.raw)-len(r.data))
			}
			trainerParts = append(trainerParts, r.data) // repeated occurrences of a message merge
		case spModelNormalizer:
			if err := d.expect(r, "normalizer_spec", wireBytes); err != nil {
				return nil, err
			}
			if src.normAt < 0 {
				src.normAt = len(src.top)
				src.normOff = r.off + int64(len(r.raw)-len(r.data))
			}
			normParts = append(normParts, r.data)
		}
		src.top = append(src.top, r.raw)
	}
	src.trainer = joinParts(trainerParts)
	src.normalizer = joinParts(normParts)
	if src.trainer != nil {
		if err := decodeTrainer(&pbDecoder{file: file, msg: "trainer_spec", b: src.trainer, base: src.trainerOff, names: trainerFieldNames, idx: -1}, &src.ts); err != nil {
			return nil, err
		}
	}
	if src.normalizer != nil {
		if err := decodeNormalizer(&pbDecoder{file: file, msg: "normalizer_spec", b: src.normalizer, base: src.normOff, names: normalizerFieldNames, idx: -1}, &src.ns); err != nil {
			return nil, err
		}
	}
	if len(src.pieces) == 0 {
		return nil, &FormatError{File: file, Off: -1, Field: "pieces", Msg: "no pieces (is this a SentencePiece model?)"}
	}
	v := NewVocab(ModelLlama)
	n := len(src.pieces)
	v.Tokens = make([]string, n)
	v.Scores = make([]float32, n)
	v.Types = make([]TokenType, n)
	for i, p := range src.pieces {
		v.Tokens[i] = p.piece
		v.Scores[i] = math.Float32frombits(p.score)
		v.Types[i] = p.typ
	}
	v.UNK, v.BOS, v.EOS, v.PAD = spSpecialIDs(v.Tokens, v.Types, &src.ts)
	v.AddSpacePrefix = src.ns.addDummyPrefix
	v.RemoveExtraWhitespaces = src.ns.removeExtraWhitespaces
	v.sp = src
	return v, nil
}

func firstOfType(types []TokenType, t TokenType) int {
	for i, x := range types {
		if x == t {
			return i
		}
	}
	return -1
}

// joinParts concatenates the payloads of a repeated message field (nil when
// there is none; the one payload itself, not a copy, when there is one).
func joinParts(parts [][]byte) []byte {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return bytes.Join(parts, nil)
}

// spSpecialIDs resolves special ids the way SentencePieceProcessor does.
func spSpecialIDs(tokens []string, types []TokenType, ts *trainerSpec) (unk, bos, eos, pad int) {
	unk = firstOfType(types, TypeUnknown)
	lookup := func(name string) int {
		for i, s := range tokens {
			if s == name {
				if types[i] == TypeControl {
					return i
				}
				return -1
			}
		}
		return -1
	}
	return unk, lookup(ts.bosPiece), lookup(ts.eosPiece), lookup(ts.padP)
}

func decodePiece(d *pbDecoder) (spPiece, error) {
	p := spPiece{typ: TypeNormal}
	for {
		r, ok, err := d.next()
		if err != nil {
			return p, err
		}
		if !ok {
			return p, nil
		}
		switch r.num {
		case spPiecePiece:
			if err := d.expect(r, "piece", wireBytes); err != nil {
				return p, err
			}
			p.piece = string(r.data)
		case spPieceScore:
			if err := d.expect(r, "score", wireFixed32); err != nil {
				return p, err
			}
			p.score = uint32(r.val)
		case spPieceType:
			if err := d.expect(r, "type", wireVarint); err != nil {
				return p, err
			}
			t := TokenType(int32(r.val))
			if !t.Valid() || uint64(int64(t)) != r.val {
				return p, d.errf(r.off, "type", "unknown piece type %d (want 1..6)", int64(r.val))
			}
			p.typ = t
		}
	}
}

func decodeTrainer(d *pbDecoder, ts *trainerSpec) error {
	for {
		r, ok, err := d.next()
		if err != nil || !ok {
			return err
		}
		var i32 *int32
		var str *string
		name := ""
		switch r.num {
		case spTrainerModelType:
			i32, name = &ts.modelType, "model_type"
		case spTrainerVocabSize:
			i32, name = &ts.vocabSize, "vocab_size"
		case spTrainerUnkID:
			i32, name = &ts.unkID, "unk_id"
		case spTrainerBosID:
			i32, name = &ts.bosID, "bos_id"
		case spTrainerEosID:
			i32, name = &ts.eosID, "eos_id"
		case spTrainerPadID:
			i32, name = &ts.padID, "pad_id"
		case spTrainerByteFallback:
			if err := d.expect(r, "byte_fallback", wireVarint); err != nil {
				return err
			}
			ts.byteFallback = r.val != 0
		case spTrainerUnkPiece:
			str, name = &ts.unkPiece, "unk_piece"
		case spTrainerBosPiece:
			str, name = &ts.bosPiece, "bos_piece"
		case spTrainerEosPiece:
			str, name = &ts.eosPiece, "eos_piece"
		case spTrainerPadPiece:
			str, name = &ts.padP, "pad_piece"
		}
		if i32 != nil {
			if err := d.expect(r, name, wireVarint); err != nil {
				return err
			}
			*i32 = int32(r.val)
		}
		if str != nil {
			if err := d.expect(r, name, wireBytes); err != nil {
				return err
			}
			if len(r.data) > 0 { // sentencepiece takes an empty name as the default
				*str = string(r.data)
			}
		}
	}
}

func decodeNormalizer(d *pbDecoder, ns *normalizerSpec) error {
	for {
		r, ok, err := d.next()
		if err != nil || !ok {
			return err
		}
		switch r.num {
		case spNormName:
			if err := d.expect(r, "name", wireBytes); err != nil {
				return err
			}
			ns.name = string(r.data)
		case spNormAddDummyPrefix:
			if err := d.expect(r, "add_dummy_prefix", wireVarint); err != nil {
				return err
			}
			ns.addDummyPrefix = r.val != 0
		case spNormRemoveExtraWhitespaces:
			if err := d.expect(r, "remove_extra_whitespaces", wireVarint); err != nil {
				return err
			}
			ns.removeExtraWhitespaces = r.val != 0
		}
	}
}

// WriteSentencePiece writes v as a SentencePiece model (a serialized
// sentencepiece.ModelProto) that the sentencepiece library loads.
//
// v must be a valid "llama" Vocab whose tokens SentencePiece accepts:
// non-empty and unique, exactly one token of type unknown (UNK, when set,
// must be it), BYTE tokens spelled "<0xNN>", and BOS/EOS/PAD, when set, of
// type control.
//
// When v was read by [ReadSentencePiece], every part of the original file
// that v does not contradict is written back unchanged, so an unmodified
// Vocab reproduces the file byte for byte. Otherwise the model is written
// as llama2.c's tokenizer training writes one: a BPE model, byte_fallback
// when there are BYTE tokens, the "identity" normalizer.
func WriteSentencePiece(path string, v *Vocab) error {
	b, err := MarshalSentencePiece(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// MarshalSentencePiece returns the bytes [WriteSentencePiece] writes.
func MarshalSentencePiece(v *Vocab) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	if v.Model != ModelLlama {
		return nil, vocabErr("model", "a SentencePiece model holds a %q vocabulary, not %q", ModelLlama, v.Model)
	}
	if err := checkSentencePieceVocab(v); err != nil {
		return nil, err
	}
	src := v.sp
	if src == nil {
		src = &spSource{fresh: true, trainerAt: -1, normAt: -1, ts: defaultTrainerSpec(),
			ns: normalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true}}
	}
	var out []byte
	for i, tok := range v.Tokens {
		bits := math.Float32bits(v.Scores[i])
		if i < len(src.pieces) {
			p := src.pieces[i]
			if p.piece == tok && p.score == bits && p.typ == v.Types[i] {
				out = append(out, p.raw...)
				continue
			}
		}
		var pb []byte
		pb = appendStringField(pb, spPiecePiece, tok)
		pb = appendFixed32Field(pb, spPieceScore, bits)
		if v.Types[i] != TypeNormal {
			pb = appendInt32Field(pb, spPieceType, int32(v.Types[i]))
		}
		out = appendBytesField(out, spModelPieces, pb)
	}
	trainer := patchTrainer(v, src)
	normalizer := patchNormalizer(v, src)
	trainerDone, normDone := false, false
	for i, raw := range src.top {
		switch i {
		case src.trainerAt:
			if trainer.changed {
				out = appendBytesField(out, spModelTrainer, trainer.msg)
			} else {
				out = append(out, raw...)
			}
			trainerDone = true
			continue
		case src.normAt:
			if normalizer.changed {
				out = appendBytesField(out, spModelNormalizer, normalizer.msg)
			} else {
				out = append(out, raw...)
			}
			normDone = true
			continue
		}
		// Later occurrences of trainer_spec/normalizer_spec were merged
		// into the first; a changed message is written once.
		if r, ok, _ := (&pbDecoder{b: raw}).next(); ok {
			if (r.num == spModelTrainer && trainer.changed) || (r.num == spModelNormalizer && normalizer.changed) {
				continue
			}
		}
		out = append(out, raw...)
	}
	// A spec the source lacked is written only if something needs saying.
	if !trainerDone && trainer.changed {
		out = appendBytesField(out, spModelTrainer, trainer.msg)
	}
	if !normDone && normalizer.changed {
		out = appendBytesField(out, spModelNormalizer, normalizer.msg)
	}
	return out, nil
}

// checkSentencePieceVocab rejects what the sentencepiece loader rejects.
func checkSentencePieceVocab(v *Vocab) error {
	seen := make(map[string]int, len(v.Tokens))
	unk := -1
	for i, tok := range v.Tokens {
		if tok == "" {
			return vocabErr(fmt.Sprintf("tokens[%d]", i), "SentencePiece pieces must not be empty")
		}
		if j, dup := seen[tok]; dup {
			return vocabErr(fmt.Sprintf("tokens[%d]", i), "piece %q already defined at id %d", tok, j)
		}
		seen[tok] = i
		switch v.Types[i] {
		case TypeUnknown:
			if unk >= 0 {
				return vocabErr(fmt.Sprintf("types[%d]", i), "a second unknown piece (the first is id %d)", unk)
			}
			unk = i
		case TypeByte:
			if _, ok := parseByteToken(tok); !ok {
				return vocabErr(fmt.Sprintf("tokens[%d]", i), "byte piece %q is not of the form <0xNN>", tok)
			}
		}
	}
	if unk < 0 {
		return vocabErr("types", "SentencePiece needs one piece of type unknown; there is none")
	}
	if v.UNK >= 0 && v.UNK != unk {
		return vocabErr("unk_token_id", "%d, but the piece of type unknown is id %d", v.UNK, unk)
	}
	for _, s := range []struct {
		name string
		id   int
	}{{"bos_token_id", v.BOS}, {"eos_token_id", v.EOS}, {"pad_token_id", v.PAD}} {
		if s.id >= 0 && v.Types[s.id] != TypeControl {
			return vocabErr(s.name, "SentencePiece special pieces must be of type control; id %d is %v", s.id, v.Types[s.id])
		}
	}
	return nil
}

// parseByteToken parses "<0xNN>" (two upper- or lower-case hex digits).
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	h, ok1 := unhex(s[3])
	l, ok2 := unhex(s[4])
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

type patched struct {
	msg     []byte
	changed bool
}

// patchTrainer returns the trainer_spec to write: the source's, with only
// the fields that v contradicts rewritten.
func patchTrainer(v *Vocab, src *spSource) patched {
	p := patched{msg: src.trainer}
	if src.fresh {
		// A fresh spec, as llama2.c's train_vocab.sh writes one.
		var b []byte
		b = appendInt32Field(b, spTrainerModelType, spBPE)
		b = appendInt32Field(b, spTrainerVocabSize, int32(len(v.Tokens)))
		p.msg, p.changed = b, true
	}
	set := func(rec []byte) {
		p.msg = pbReplace(p.msg, fieldOf(rec), rec)
		p.changed = true
	}
	if src.trainer != nil && len(v.Tokens) != len(src.pieces) && int(src.ts.vocabSize) != len(v.Tokens) {
		set(appendInt32Field(nil, spTrainerVocabSize, int32(len(v.Tokens))))
	}
	hasByte := false
	for _, t := range v.Types {
		if t == TypeByte {
			hasByte = true
			break
		}
	}
	if hasByte != src.ts.byteFallback {
		set(appendBoolField(nil, spTrainerByteFallback, hasByte))
	}
	// Make the runtime's lookups (by piece name, see spSpecialIDs) give v's ids.
	ts := src.ts
	_, bos, eos, pad := spSpecialIDs(v.Tokens, v.Types, &ts)
	fix := func(want, got, idField, pieceField int) {
		if want == got {
			return
		}
		// To disable a special, name the unknown piece: the lookup then
		// finds a piece that is not a control piece. (An empty name would
		// mean the default, "<s>" etc.)
		name := v.Tokens[firstOfType(v.Types, TypeUnknown)]
		if want >= 0 {
			name = v.Tokens[want]
		}
		set(appendInt32Field(nil, idField, int32(want)))
		set(appendStringField(nil, pieceField, name))
	}
	fix(v.BOS, bos, spTrainerBosID, spTrainerBosPiece)
	fix(v.EOS, eos, spTrainerEosID, spTrainerEosPiece)
	fix(v.PAD, pad, spTrainerPadID, spTrainerPadPiece)
	// unk_id is only informative (the runtime uses the piece of type
	// unknown); keep the source's unless that piece moved.
	unk, srcUnk := firstOfType(v.Types, TypeUnknown), -1
	if !src.fresh {
		srcUnk = int(src.ts.unkID)
		for i, p := range src.pieces {
			if p.typ == TypeUnknown {
				srcUnk = i
				break
			}
		}
	}
	if unk != srcUnk && unk != int(ts.unkID) {
		set(appendInt32Field(nil, spTrainerUnkID, int32(unk)))
	}
	return p
}

// fieldOf returns the field number of an encoded record.
func fieldOf(rec []byte) int {
	r, _, _ := (&pbDecoder{b: rec}).next()
	return r.num
}

// patchNormalizer returns the normalizer_spec to write.
func patchNormalizer(v *Vocab, src *spSource) patched {
	p := patched{msg: src.normalizer}
	ns := src.ns
	if src.fresh {
		var b []byte
		b = appendStringField(b, spNormName, "identity")
		b = appendBytesField(b, spNormCharsmap, nil)
		p.msg, p.changed = b, true
		ns = normalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true}
	}
	if v.AddSpacePrefix != ns.addDummyPrefix {
		p.msg = pbReplace(p.msg, spNormAddDummyPrefix, appendBoolField(nil, spNormAddDummyPrefix, v.AddSpacePrefix))
		p.changed = true
	}
	if v.RemoveExtraWhitespaces != ns.removeExtraWhitespaces {
		p.msg = pbReplace(p.msg, spNormRemoveExtraWhitespaces, appendBoolField(nil, spNormRemoveExtraWhitespaces, v.RemoveExtraWhitespaces))
		p.changed = true
	}
	return p
}
