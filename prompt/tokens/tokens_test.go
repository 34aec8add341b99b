package tokens_test

import (
	"crypto/sha256"
	"os"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/prompt/tokens"
)

// The embedded rank files must be byte-exact copies of OpenAI's.
func TestTiktokenRanksMatchOfficial(t *testing.T) {
	for _, tc := range []struct{ name, sha string }{
		{"cl100k_base", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"},
		{"o200k_base", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tokens.TiktokenRanks(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			got := sha256.Sum256(data)
			if h := string(hexs(got[:])); h != tc.sha {
				t.Errorf("sha256 %s, OpenAI's file has %s", h, tc.sha)
			}
			// and equal to the copy in ../shared, where present
			p := shared.Path(t, "tokenizers/tiktoken/"+tc.name+".tiktoken")
			ref, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(ref) != got {
				t.Errorf("embedded %s differs from %s", tc.name, p)
			}
		})
	}
}

func hexs(b []byte) []byte {
	const d = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = d[c>>4], d[c&15]
	}
	return out
}

// Known counts from OpenAI's tiktoken.
func TestTiktokenCounts(t *testing.T) {
	for _, tc := range []struct {
		enc, text string
		want      []int
	}{
		{"cl100k_base", "hello world", []int{15339, 1917}},
		{"o200k_base", "hello world", []int{24912, 2375}},
	} {
		tk, err := tokens.Tiktoken(tc.enc)
		if err != nil {
			t.Fatal(err)
		}
		got := tk.Encode(tc.text, false)
		if len(got) != len(tc.want) {
			t.Fatalf("%s %q: %v, want %v", tc.enc, tc.text, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s %q: %v, want %v", tc.enc, tc.text, got, tc.want)
			}
		}
		c, _ := tokens.Open(tc.enc)
		if n := c.Count(tc.text); n != len(tc.want) || c.Name() != tc.enc {
			t.Errorf("counter %s: %d tokens", c.Name(), n)
		}
	}
}
