// Package assess is the pure core of the assessment feature (测评体系,
// mock inspection rounds, 谁丢分、谁负责): no database, no HTTP, only
// plain values in and exact figures out, so that storage, pages, commands
// and a verification command can all call the same arithmetic.
//
//   - tree.go: an edition's indicator tree (projects → contents →
//     standards, plus the negative list), points as exact decimals.
//   - yaml.go: Parse and Write, the YAML form of a tree. Parse checks the
//     whole file and returns every Problem, placed by YAML path and line,
//     as a message key with arguments (problem.go) for the catalogue.
//   - score.go: Score, the scores of one round for one scope (the city or
//     a region) with big.Rat arithmetic throughout.
//   - ledger.go: Attribute, the point-loss ledger of a scope, which adds
//     up exactly to the points lost, with a configurable Split between a
//     site's unit and a standard's lead unit.
//   - sample.go: ParsePlan and Sample, a reproducible draw of a round's
//     sites (the algorithm is specified in Sample's comment).
//   - index.go: Index, the civilization index of each district over a
//     quarter's rounds, ranked.
//   - output.go: the only rounding (half away from zero, points to 2
//     decimals, rates to 4) and the JSON documents of the scores and
//     ledger commands.
//
// The formats, the arithmetic and the decisions taken where the contract
// is silent are described in docs/assessment.md.
package assess
