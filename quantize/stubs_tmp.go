package quantize

import (
	"context"
	"errors"
	"time"

	"github.com/lmc-project/lmc/modelfile"
)

func runHF(ctx context.Context, m *modelfile.Model, out string, o *Options, r *Report, start time.Time) (*Report, error) {
	return nil, errors.New("todo")
}
