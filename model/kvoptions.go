package model

import (
	"fmt"
	"strings"
)

// KVPolicy selects which positions the built-in cache drops once it holds
// more than its budget. Every policy works per layer and per KV head (each
// head keeps its own positions; query heads of a group vote together).
type KVPolicy int

// The eviction policies.
const (
	// KVKeepAll keeps every position (no budget).
	KVKeepAll KVPolicy = iota
	// KVStreaming is StreamingLLM (Xiao et al. 2023): the first Sinks
	// positions (attention sinks) and the most recent ones.
	KVStreaming
	// KVH2O is Heavy-Hitter Oracle (Zhang et al. 2023): the most recent
	// RecentFraction of the budget, and the positions with the largest
	// attention accumulated over every query so far.
	KVH2O
	// KVSnapKV is SnapKV (Li et al. 2024): the last Window positions (the
	// observation window) vote with their attention, smoothed by a
	// max-pool of width Pool over neighbouring positions; the
	// top-voted earlier positions are kept. It compresses after a prompt
	// batch, and during decoding every Window tokens.
	KVSnapKV
	// KVTOVA is Token Omission Via Attention (Oren et al. 2024): drop the
	// position the newest query attends to least.
	KVTOVA
	// KVMerge is token merging: H2O's choice of positions to drop, but
	// each is merged into the kept position whose key is most similar
	// (cosine), keys and values averaged with their accumulated attention
	// as weights (as CaM and D2O do), instead of being discarded.
	KVMerge
	numKVPolicies
)

var kvPolicyNames = [numKVPolicies]string{"none", "streaming", "h2o", "snapkv", "tova", "merge"}

func (p KVPolicy) String() string {
	if p >= 0 && p < numKVPolicies {
		return kvPolicyNames[p]
	}
	return fmt.Sprintf("KVPolicy(%d)", int(p))
}

// KVPolicyNames lists the names ParseKVPolicy accepts.
func KVPolicyNames() []string { return append([]string(nil), kvPolicyNames[:]...) }

// ParseKVPolicy parses none (also full), streaming (also streamingllm,
// sink), h2o, snapkv, tova or merge, ignoring case.
func ParseKVPolicy(s string) (KVPolicy, error) {
	switch strings.ToLower(s) {
	case "", "full", "keepall":
		return KVKeepAll, nil
	case "streamingllm", "sink", "sinks":
		return KVStreaming, nil
	}
	for i, n := range kvPolicyNames {
		if strings.EqualFold(s, n) {
			return KVPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("model: unknown KV policy %q (want one of %s)", s, strings.Join(kvPolicyNames[:], ", "))
}

// KVOptions tunes the built-in cache beyond its element type: eviction,
// KIVI and paging parameters, and prefix sharing. The zero value keeps
// every position in pages of 64.
type KVOptions struct {
	// Policy drops positions beyond the budget (KVKeepAll: none).
	Policy KVPolicy
	// Budget is the most positions each layer and KV head keeps under
	// Policy, in tokens; BudgetFraction gives it instead as a fraction
	// (0, 1] of the context. Exactly one must be set with a policy, and
	// neither without one. A forward pass of n tokens briefly holds up
	// to Budget + n positions (the new ones attend to each other), so
	// prompts are best evaluated in batches much smaller than Budget.
	Budget         int
	BudgetFraction float64
	// Sinks is StreamingLLM's number of attention sinks (default 4).
	Sinks int
	// RecentFraction is H2O's share of the budget kept for the most
	// recent positions (default 0.5).
	RecentFraction float64
	// Window is SnapKV's observation window (default min(32, Budget/4),
	// at least 1); Pool its max-pool width (default 5; 1 for none).
	Window, Pool int
	// Group is the number of positions whose KIVI keys share per-channel
	// scales (default 32; a multiple of it must fill a page).
	Group int
	// Residual is the number of most recent positions kept in float32
	// before they are quantized (KIVI's full-precision window): default
	// 32 for the int4/int2 types, 0 for the others. With KIVI keys the
	// window holds Residual to Residual+Group−1 positions.
	Residual int
	// PageSize is the number of positions per page (default 64, 16 with
	// a policy): the unit of allocation and of prefix sharing.
	PageSize int
	// Prefix, when not nil, shares pages of common prompt prefixes
	// between sessions (see [PrefixCache]).
	Prefix *PrefixCache
	// KeyBasis, when not nil, stores keys projected on a low-rank basis
	// (see [KeyBasis] and [CalibrateKeyBasis]).
	KeyBasis *KeyBasis
}

// kvLayout is a validated cache configuration.
type kvLayout struct {
	layers, heads, hd int
	ctx               int // positions (Cap)
	batch             int
	k, v              KVType // single types
	opt               KVOptions
	budget            int
	slotCap           int // slots one stream may hold
}

// resolveKV checks the options against the model and fills in defaults.
// Errors name the option at fault.
func resolveKV(layers, heads, hd, ctx, batch int, t KVType, o KVOptions) (*kvLayout, error) {
	if !t.valid() {
		return nil, fmt.Errorf("model: unknown KV cache type %v", t)
	}
	L := &kvLayout{layers: layers, heads: heads, hd: hd, ctx: ctx, batch: batch, k: t.K(), v: t.V(), opt: o}
	kd := hd
	if o.KeyBasis != nil {
		if err := o.KeyBasis.check(layers, heads, hd); err != nil {
			return nil, err
		}
		kd = o.KeyBasis.Rank
	}
	for _, x := range []struct {
		what string
		t    KVType
		dim  int
	}{{"key", L.k, kd}, {"value", L.v, hd}} {
		if x.t >= KVFP8 && x.dim%32 != 0 {
			if x.dim != hd {
				return nil, fmt.Errorf("model: key type %v needs the key basis rank to be a multiple of 32, not %d", x.t, x.dim)
			}
			return nil, fmt.Errorf("model: %s type %v needs head_dim to be a multiple of 32 (blocks of 32 per head, as in llama.cpp); this model's head_dim is %d: use f32, f16 or bf16", x.what, x.t, hd)
		}
	}
	if o.Policy < 0 || o.Policy >= numKVPolicies {
		return nil, fmt.Errorf("model: unknown KV policy %v", o.Policy)
	}
	if o.Budget < 0 || o.BudgetFraction < 0 || o.BudgetFraction > 1 {
		return nil, fmt.Errorf("model: KV budget %d / fraction %g out of range (want a positive token count, or a fraction in (0, 1])", o.Budget, o.BudgetFraction)
	}
	if o.Budget > 0 && o.BudgetFraction > 0 {
		return nil, fmt.Errorf("model: KV budget given both as %d tokens and as fraction %g", o.Budget, o.BudgetFraction)
	}
	if o.Policy == KVKeepAll {
		if o.Budget > 0 || o.BudgetFraction > 0 {
			return nil, fmt.Errorf("model: a KV budget needs an eviction policy (streaming, h2o, snapkv or tova)")
		}
	} else {
		b := o.Budget
		if o.BudgetFraction > 0 {
			b = int(o.BudgetFraction*float64(ctx) + 0.5)
			if b < 1 {
				return nil, fmt.Errorf("model: KV budget fraction %g of context %d is less than one token", o.BudgetFraction, ctx)
			}
		}
		if b <= 0 {
			return nil, fmt.Errorf("model: KV policy %v needs a budget (tokens, or a fraction of the context)", o.Policy)
		}
		if b > ctx {
			return nil, fmt.Errorf("model: KV budget %d is above the context %d", b, ctx)
		}
		L.budget = b
		if L.k.kivi() || L.v.kivi() {
			return nil, fmt.Errorf("model: KV policy %v cannot evict from a KIVI cache (%v): its keys are quantized in groups of positions; use another type or policy none", o.Policy, t)
		}
		if o.Residual > 0 {
			return nil, fmt.Errorf("model: a full-precision residual window cannot be combined with KV policy %v", o.Policy)
		}
		if o.Prefix != nil {
			return nil, fmt.Errorf("model: prefix caching shares pages read-only and cannot be combined with KV policy %v", o.Policy)
		}
	}
	if o.Sinks < 0 || o.Window < 0 || o.Pool < 0 || o.Group < 0 || o.Residual < 0 || o.PageSize < 0 || o.RecentFraction < 0 || o.RecentFraction > 1 {
		return nil, fmt.Errorf("model: negative KV option (sinks %d, window %d, pool %d, group %d, residual %d, page size %d, recent fraction %g)",
			o.Sinks, o.Window, o.Pool, o.Group, o.Residual, o.PageSize, o.RecentFraction)
	}
	if L.opt.Sinks == 0 {
		L.opt.Sinks = 4
	}
	if L.opt.RecentFraction == 0 {
		L.opt.RecentFraction = 0.5
	}
	if L.opt.Window == 0 {
		L.opt.Window = max(1, min(32, L.budget/4))
	}
	if L.opt.Pool == 0 {
		L.opt.Pool = 5
	}
	if L.opt.Group == 0 {
		L.opt.Group = 32
	}
	if L.opt.PageSize == 0 {
		L.opt.PageSize = 64
		if o.Policy != KVKeepAll {
			L.opt.PageSize = 16 // a budget is usually small: allocate finely
		}
		if L.k.kivi() && L.opt.Group > 64 {
			L.opt.PageSize = L.opt.Group
		}
	}
	if o.Residual == 0 && (L.k.kivi() || L.v.kivi()) {
		L.opt.Residual = 32
	}
	if o.Policy == KVStreaming && L.opt.Sinks >= L.budget {
		return nil, fmt.Errorf("model: StreamingLLM keeps %d sinks, which leaves no room in a budget of %d", L.opt.Sinks, L.budget)
	}
	if (o.Policy == KVH2O || o.Policy == KVMerge) && L.recent() >= L.budget {
		return nil, fmt.Errorf("model: H2O recent fraction %g protects the whole budget of %d", L.opt.RecentFraction, L.budget)
	}
	if o.Policy == KVSnapKV && L.opt.Window >= L.budget {
		return nil, fmt.Errorf("model: SnapKV window %d must be below the budget %d", L.opt.Window, L.budget)
	}
	if L.k.kivi() && L.opt.PageSize%L.opt.Group != 0 {
		return nil, fmt.Errorf("model: KV page size %d is not a multiple of the KIVI group %d", L.opt.PageSize, L.opt.Group)
	}
	if L.opt.PageSize > 1<<16 || L.opt.Group > 1<<16 || L.opt.Residual > 1<<20 {
		return nil, fmt.Errorf("model: KV page size %d, group %d or residual %d is too large", L.opt.PageSize, L.opt.Group, L.opt.Residual)
	}
	L.slotCap = ctx
	if o.Policy != KVKeepAll {
		extra := batch
		if o.Policy == KVSnapKV {
			extra += L.opt.Window // decoding lets a window accumulate
		}
		L.slotCap = min(ctx, L.budget+extra)
	}
	return L, nil
}

// recent is the number of newest positions H2O protects.
func (L *kvLayout) recent() int { return int(float64(L.budget) * L.opt.RecentFraction) }

// flushUnit is how many residual positions are quantized at once.
func (L *kvLayout) flushUnit() int {
	if L.k.kivi() {
		return L.opt.Group
	}
	return 1
}
