package main

import (
	"fmt"
	"os"

	"github.com/lmc-project/lmc/gguf"
)

func main() {
	for _, p := range os.Args[1:] {
		f, err := gguf.Open(p)
		if err != nil {
			panic(err)
		}
		fmt.Println("==", p, "align", f.Alignment)
		for _, kv := range f.KVs {
			s := kv.Value.String()
			if len(s) > 80 {
				s = s[:80]
			}
			fmt.Printf("%s %v %s\n", kv.Key, kv.Value.Type, s)
		}
		for i, t := range f.Tensors {
			if i < 5 {
				fmt.Println(t.Name, t.Type, t.Shape, t.Offset)
			}
		}
	}
}
