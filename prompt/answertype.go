package prompt

import (
	"regexp"
	"strings"
)

// answerType is the kind of answer a question asks for.
type answerType uint8

const (
	answerNone   answerType = iota
	answerEntity            // who, whom, whose, where, which
	answerTime              // when, what year/date/day/month/century
	answerNumber            // how many, how much, how long, how old, what percentage
)

var (
	timeQ   = regexp.MustCompile(`(?i)^(when\b|what (year|date|day|month|time|century|decade|age)\b|which (year|date|day|month|century)\b|in what year\b|how long ago\b)|\b(what|which) (year|date)\b`)
	numberQ = regexp.MustCompile(`(?i)\bhow (many|much|long|old|far|tall|high|big|large|deep|fast)\b|\bwhat (percentage|percent|number|amount|population|size)\b`)
	entityQ = regexp.MustCompile(`(?i)^(who|whom|whose|where)\b|\b(who|whom|whose|where)\b`)

	monthRe = regexp.MustCompile(`\b(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b|\b1[0-9]{3}\b|\b20[0-9]{2}\b|\b[0-9]{1,2}(st|nd|rd|th) century\b`)
	digitRe = regexp.MustCompile(`[0-9]|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion)\b`)
)

// answerTypeOf guesses what kind of answer the question asks for, from its
// wh-words.
func answerTypeOf(q string) answerType {
	q = strings.TrimSpace(q)
	switch {
	case timeQ.MatchString(q):
		return answerTime
	case numberQ.MatchString(q):
		return answerNumber
	case entityQ.MatchString(q):
		return answerEntity
	}
	return answerNone
}

// hasAnswerType reports whether s holds a candidate answer of type t that
// is not already in the question: a date or year, a number, or a
// capitalized name.
func hasAnswerType(s string, t answerType, question string) bool {
	switch t {
	case answerTime:
		return monthRe.MatchString(s)
	case answerNumber:
		return digitRe.MatchString(s)
	case answerEntity:
		ql := strings.ToLower(question)
		for _, e := range Entities(s) {
			if !strings.Contains(ql, strings.ToLower(e)) {
				return true
			}
		}
	}
	return false
}
