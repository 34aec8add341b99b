package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/model"
)

// kvFlags are the KV-cache flags that run, eval and bench share:
// --kv-type-k/--kv-type-v (llama.cpp's -ctk/-ctv), --kv-policy,
// --kv-budget, --kv-offload, and the finer --kv-* knobs.
type kvFlags struct {
	typeK, typeV, policy, budget, offload string
	sinks, window, group, residual, page  int
}

// addKVFlags registers the KV-cache flags on cmd.
func addKVFlags(cmd *cobra.Command) *kvFlags {
	f := &kvFlags{}
	fl := cmd.Flags()
	types := strings.Join(model.KVTypeNames(), ", ")
	fl.StringVar(&f.typeK, "kv-type-k", "", "KV cache type of the keys ("+types+"; default: --kv)")
	fl.StringVar(&f.typeV, "kv-type-v", "", "KV cache type of the values (default: --kv)")
	fl.StringVar(&f.policy, "kv-policy", "none", "KV eviction policy: "+strings.Join(model.KVPolicyNames(), ", "))
	fl.StringVar(&f.budget, "kv-budget", "", "positions each layer keeps under --kv-policy: a token count (256) or a share of the context (20% or 0.2)")
	fl.StringVar(&f.offload, "kv-offload", "", "folder for the prefix cache's cold tier: prompt pages are saved there and reused by later runs")
	fl.IntVar(&f.sinks, "kv-sinks", 0, "StreamingLLM attention sinks (0: 4)")
	fl.IntVar(&f.window, "kv-window", 0, "SnapKV observation window (0: min(32, budget/4))")
	fl.IntVar(&f.group, "kv-group", 0, "KIVI: positions per key group (0: 32)")
	fl.IntVar(&f.residual, "kv-residual", 0, "full-precision window of the newest positions (0: 32 for int4/int2, none otherwise)")
	fl.IntVar(&f.page, "kv-page", 0, "positions per cache page (0: 64)")
	return f
}

// sessionOptions resolves the flags into session options. kv is the type
// given by --kv (the default for both keys and values). The prefix cache,
// when --kv-offload is set, must be flushed when the command ends.
func (f *kvFlags) sessionOptions(kv model.KVType) (model.SessionOptions, error) {
	var o model.SessionOptions
	k, v := kv.K(), kv.V()
	var err error
	if f.typeK != "" {
		if k, err = model.ParseKVType(f.typeK); err != nil || k.K() != k.V() {
			return o, usageError("--kv-type-k %q: choose one of %s", f.typeK, strings.Join(model.KVTypeNames(), ", "))
		}
	}
	if f.typeV != "" {
		if v, err = model.ParseKVType(f.typeV); err != nil || v.K() != v.V() {
			return o, usageError("--kv-type-v %q: choose one of %s", f.typeV, strings.Join(model.KVTypeNames(), ", "))
		}
	}
	o.KV = model.KVPair(k, v)
	if o.Policy, err = model.ParseKVPolicy(f.policy); err != nil {
		return o, usageError("--kv-policy %q: choose one of %s", f.policy, strings.Join(model.KVPolicyNames(), ", "))
	}
	if f.budget != "" {
		if o.Budget, o.BudgetFraction, err = parseBudget(f.budget); err != nil {
			return o, usageError("--kv-budget %q: %v", f.budget, err)
		}
		if o.Policy == model.KVKeepAll {
			return o, usageError("--kv-budget needs --kv-policy (streaming, h2o, snapkv or tova)")
		}
	} else if o.Policy != model.KVKeepAll {
		return o, usageError("--kv-policy %s needs --kv-budget (tokens, or a share of the context such as 20%%)", o.Policy)
	}
	if f.sinks < 0 || f.window < 0 || f.group < 0 || f.residual < 0 || f.page < 0 {
		return o, usageError("--kv-sinks, --kv-window, --kv-group, --kv-residual and --kv-page must not be negative")
	}
	o.Sinks, o.Window, o.Group, o.Residual, o.PageSize = f.sinks, f.window, f.group, f.residual, f.page
	if f.offload != "" {
		if o.Policy != model.KVKeepAll {
			return o, usageError("--kv-offload keeps prompt pages, which need every position: it cannot be combined with --kv-policy")
		}
		pc, err := model.NewPrefixCache(model.PrefixOptions{Dir: f.offload})
		if err != nil {
			return o, err
		}
		o.Prefix = pc
	}
	return o, nil
}

// parseBudget reads "256" (tokens), "20%" or "0.2" (a share of the
// context).
func parseBudget(s string) (tokens int, frac float64, err error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v > 0 && v <= 100) {
			return 0, 0, fmt.Errorf("want a percentage in (0, 100]")
		}
		return 0, v / 100, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 {
			return 0, 0, fmt.Errorf("a budget of %d tokens keeps nothing", n)
		}
		return n, 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0 && v < 1) {
		return 0, 0, fmt.Errorf("want a token count, a percentage, or a fraction in (0, 1)")
	}
	return 0, v, nil
}
