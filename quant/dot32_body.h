// Kernel bodies of dot32_amd64.s, included once per instruction set
// with NAME_* set to the symbol names and MULSUM_I8 / MULSUM_U8 defined.
// Each loop runs two blocks per iteration into two accumulators and
// prefetches 512 bytes ahead in both rows (rows past L1 otherwise stall).

// --- Q8_0 · Q8_0 (dotQ8_0Q8_0) -------------------------------------------

// func dotQ8_0{AVX2,VNNI}(x, y *byte, nb int) float32
TEXT NAME_Q8_0(SB), NOSPLIT, $0-28
	PROLOGUE
q8_0_loop2:
	CMPQ CX, $2
	JB   q8_0_tail
	PREFETCHT0 512(SI)
	PREFETCHT0 512(DI)
	Q8_0_BLOCK(0, 0, Y0)
	Q8_0_BLOCK(34, 34, Y8)
	ADDQ $68, SI
	ADDQ $68, DI
	SUBQ $2, CX
	JMP  q8_0_loop2
q8_0_tail:
	TESTQ CX, CX
	JZ    q8_0_done
	Q8_0_BLOCK(0, 0, Y0)
q8_0_done:
	HSUM
	MOVSS X0, ret+24(FP)
	RET

// --- Q4_0 · Q8_0 (dotQ4_0Q8_0) -------------------------------------------

// func dotQ4_0{AVX2,VNNI}(x, y *byte, nb int) float32
TEXT NAME_Q4_0(SB), NOSPLIT, $0-28
	PROLOGUE
	VMOVDQU qconst<>+32(SB), Y13
q4_0_loop2:
	CMPQ CX, $2
	JB   q4_0_tail
	PREFETCHT0 512(SI)
	PREFETCHT0 512(DI)
	Q4_0_BLOCK(0, 0, Y0)
	Q4_0_BLOCK(18, 34, Y8)
	ADDQ $36, SI
	ADDQ $68, DI
	SUBQ $2, CX
	JMP  q4_0_loop2
q4_0_tail:
	TESTQ CX, CX
	JZ    q4_0_done
	Q4_0_BLOCK(0, 0, Y0)
q4_0_done:
	HSUM
	MOVSS X0, ret+24(FP)
	RET

// --- IQ4_NL · Q8_0 (dotIQ4NLQ8_0) ----------------------------------------

// func dotIQ4NL{AVX2,VNNI}(x, y *byte, nb int) float32
TEXT NAME_IQ4NL(SB), NOSPLIT, $0-28
	PROLOGUE
	VMOVDQU qconst<>+256(SB), Y13
iq4nl_loop2:
	CMPQ CX, $2
	JB   iq4nl_tail
	PREFETCHT0 512(SI)
	PREFETCHT0 512(DI)
	IQ4_NL_BLOCK(0, 0, Y0)
	IQ4_NL_BLOCK(18, 34, Y8)
	ADDQ $36, SI
	ADDQ $68, DI
	SUBQ $2, CX
	JMP  iq4nl_loop2
iq4nl_tail:
	TESTQ CX, CX
	JZ    iq4nl_done
	IQ4_NL_BLOCK(0, 0, Y0)
iq4nl_done:
	HSUM
	MOVSS X0, ret+24(FP)
	RET

// --- Q5_0 · Q8_0 (dotQ5_0Q8_0) -------------------------------------------
// x = nibble | 0xF0 where the fifth bit is clear: as int8 that is q - 16.

// func dotQ5_0{AVX2,VNNI}(x, y *byte, nb int) float32
TEXT NAME_Q5_0(SB), NOSPLIT, $0-28
	PROLOGUE
	BITS_SETUP
	VMOVDQU qconst<>+192(SB), Y13
q5_0_loop2:
	CMPQ CX, $2
	JB   q5_0_tail
	PREFETCHT0 512(SI)
	PREFETCHT0 512(DI)
	Q5_0_BLOCK(0, 0, Y0)
	Q5_0_BLOCK(22, 34, Y8)
	ADDQ $44, SI
	ADDQ $68, DI
	SUBQ $2, CX
	JMP  q5_0_loop2
q5_0_tail:
	TESTQ CX, CX
	JZ    q5_0_done
	Q5_0_BLOCK(0, 0, Y0)
q5_0_done:
	HSUM
	MOVSS X0, ret+24(FP)
	RET

// --- Q4_1 and Q5_1 · Q8_1 (dotQ4_1Q8_1, dotQ5_1Q8_1) ---------------------
// acc += d_x·d_y·Σ q_x·q_y with unsigned q_x; the scalar accm += m_x·s_y,
// where s_y = d_y·Σq_y is stored in the Q8_1 block (y: d at 0, s at 2,
// codes at 4).

// func dotQ4_1{AVX2,VNNI}(x, y *byte, nb int) float32
TEXT NAME_Q4_1(SB), NOSPLIT, $0-28
	PROLOGUE
	VXORPS X9, X9, X9
	VXORPS X10, X10, X10
q4_1_loop2:
	CMPQ CX, $2
	JB   q4_1_tail
	PREFETCHT0 512(SI)
	PREFETCHT0 512(DI)
	Q4_1_BLOCK(0, 0, Y0, X9)
	Q4_1_BLOCK(20, 36, Y8, X10)
	ADDQ $40, SI
	ADDQ $72, DI
	SUBQ $2, CX
	JMP  q4_1_loop2
q4_1_tail:
	TESTQ CX, CX
	JZ    q4_1_done
	Q4_1_BLOCK(0, 0, Y0, X9)
q4_1_done:
	VADDSS X10, X9, X9
	HSUM
	VADDSS X9, X0, X0
	MOVSS X0, ret+24(FP)
	RET

// func dotQ5_1{AVX2,VNNI}(x, y *byte, nb int) float32
TEXT NAME_Q5_1(SB), NOSPLIT, $0-28
	PROLOGUE
	BITS_SETUP
	VMOVDQU qconst<>+224(SB), Y13
	VXORPS X7, X7, X7
	VXORPS X9, X9, X9
q5_1_loop2:
	CMPQ CX, $2
	JB   q5_1_tail
	PREFETCHT0 512(SI)
	PREFETCHT0 512(DI)
	Q5_1_BLOCK(0, 0, Y0, X7)
	Q5_1_BLOCK(24, 36, Y8, X9)
	ADDQ $48, SI
	ADDQ $72, DI
	SUBQ $2, CX
	JMP  q5_1_loop2
q5_1_tail:
	TESTQ CX, CX
	JZ    q5_1_done
	Q5_1_BLOCK(0, 0, Y0, X7)
q5_1_done:
	VADDSS X9, X7, X7
	HSUM
	VADDSS X7, X0, X0
	MOVSS X0, ret+24(FP)
	RET
