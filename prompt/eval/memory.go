package eval

import (
	"fmt"
	"math/rand/v2"

	"github.com/lmc-project/lmc/prompt"
)

// memoryFacts are facts a user states early in a conversation, with the
// question that needs each one later. %s is the value.
var memoryFacts = []struct {
	say, ask string
	values   []string
}{
	{"By the way, my name is %s.", "Can you remind me what my name is?", []string{"Priya Raman", "Tomasz Wójcik", "Amara Okafor", "Liam O'Connell", "Sofia Lindqvist", "Kenji Watanabe"}},
	{"I live in %s, so keep the weather there in mind.", "Which city did I say I live in?", []string{"Tromsø", "Valparaíso", "Nagoya", "Ljubljana", "Winnipeg", "Hobart"}},
	{"My order number is %s, in case you need it.", "What was my order number again?", []string{"58213", "90417", "33862", "71295", "46120", "85530"}},
	{"My dog is called %s and she is three years old.", "What is my dog's name?", []string{"Biscuit", "Pepper", "Juniper", "Mochi", "Clementine", "Nugget"}},
	{"I'm allergic to %s, so please avoid it in recipes.", "What am I allergic to?", []string{"peanuts", "shellfish", "sesame", "kiwi", "mustard", "buckwheat"}},
	{"My flight leaves on %s from gate B12.", "On what date does my flight leave?", []string{"14 March", "2 August", "29 October", "7 January", "18 June", "23 November"}},
}

// memoryFiller are turns about other things.
var memoryFiller = [][2]string{
	{"What is a good way to start running?", "Start slowly: alternate one minute of running with two minutes of walking for twenty minutes, three times a week. Increase the running part a little each week, rest between sessions, and buy shoes that fit well. Most beginners can run for thirty minutes without stopping after about eight weeks."},
	{"How do I keep basil alive indoors?", "Basil wants at least six hours of sunlight, so a south-facing window works best. Water when the top of the soil feels dry, never leave the pot standing in water, and pinch off the flower buds so the plant keeps making leaves. Harvest from the top to make it bushier."},
	{"Can you explain what a Roth account is?", "It is a retirement account funded with money that has already been taxed. The investments grow tax-free, and qualified withdrawals in retirement are not taxed either. There are income limits and yearly contribution limits, and early withdrawals of earnings can carry penalties."},
	{"Any tips for learning to play chess?", "Learn how each piece moves, then study simple checkmates with a king and rook. Play many short games, review your losses to see where you dropped material, and learn a few opening principles: control the center, develop your knights and bishops, and castle early."},
	{"How long should I boil an egg?", "For a soft yolk, boil it for six to seven minutes; for a firm yolk, ten to eleven minutes. Put the eggs into water that is already boiling, then cool them in cold water right away so they are easier to peel."},
	{"What should I pack for a weekend hike?", "Bring water, snacks, a map, a rain jacket, a warm layer, sunscreen, a small first aid kit and a headlamp. Wear broken-in boots and wool socks, and tell someone where you are going and when you expect to be back."},
	{"How can I sleep better?", "Keep the same bedtime every day, avoid caffeine after lunch, and keep the bedroom dark, quiet and cool. Put screens away an hour before bed, and if you cannot fall asleep after twenty minutes, get up and read until you feel tired."},
	{"What is the difference between weather and climate?", "Weather is what the atmosphere does over hours or days: rain, wind, temperature. Climate is the long-term pattern of weather in a place, usually averaged over thirty years or more. A cold day says little about the climate; decades of records do."},
	{"How do I write a good cover letter?", "Address it to a person if you can, open with the job you want and why, and give two or three concrete examples of results you achieved that match the job. Keep it under one page, match the tone of the company, and proofread it twice."},
	{"Why is the sky blue?", "Sunlight contains every color, and air molecules scatter short wavelengths much more than long ones. Blue light is scattered all over the sky, so it reaches your eyes from every direction. At sunset the light crosses more air, the blue is scattered away, and reds remain."},
}

// MemoryCases builds n multi-turn conversations (deterministic for a
// seed): a system prompt, early user turns stating two or three facts with
// short assistant acknowledgements, six to nine turns on other subjects,
// and a final question about one of the early facts. Each example's
// Answers hold that fact's value.
func MemoryCases(n int, seed uint64) []Example {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Example, 0, n)
	for k := 0; k < n; k++ {
		ms := []prompt.Message{{Role: "system", Content: "You are a helpful assistant. Answer briefly and remember what the user tells you."}}
		perm := r.Perm(len(memoryFacts))
		nf := 2 + r.IntN(2)
		type fact struct{ i, v int }
		var facts []fact
		for _, fi := range perm[:nf] {
			f := fact{fi, r.IntN(len(memoryFacts[fi].values))}
			facts = append(facts, f)
			ms = append(ms,
				prompt.Message{Role: "user", Content: fmt.Sprintf(memoryFacts[fi].say, memoryFacts[fi].values[f.v])},
				prompt.Message{Role: "assistant", Content: "Noted, thank you."})
		}
		fill := r.Perm(len(memoryFiller))
		nfill := 6 + r.IntN(4)
		for _, fi := range fill[:nfill] {
			ms = append(ms, prompt.Message{Role: "user", Content: memoryFiller[fi][0]}, prompt.Message{Role: "assistant", Content: memoryFiller[fi][1]})
		}
		asked := facts[r.IntN(len(facts))]
		q := memoryFacts[asked.i].ask
		ms = append(ms, prompt.Message{Role: "user", Content: q})
		out = append(out, Example{Messages: ms, Question: q, Answers: []string{memoryFacts[asked.i].values[asked.v]}})
	}
	return out
}
