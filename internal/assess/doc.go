// Package assess is the assessment feature (测评体系, mock inspection
// rounds, 谁丢分、谁负责). Its core is pure: no database, no HTTP, only
// plain values in and exact figures out, so that storage, pages, commands
// and a verification command can all call the same arithmetic. The
// Service stores editions, sites, rounds, observations and values and
// feeds the stored rounds to that core.
//
// The pure core:
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
//   - xlsx.go, table.go: the XLSX form of a tree (one sheet, checked by
//     the YAML parser) and the CSV and sheet tables of the other imports,
//     every problem placed by row and column.
//
// Storage (Service, on the store package; tables of migration 0006):
//
//   - service.go: the Service, formats, role checks, regions.
//   - editions.go: ImportTree (YAML or XLSX, a new draft version per
//     import), Publish, ExportTree.
//   - sites.go: ImportSites (CSV or XLSX; a region code, or a point the
//     grid places), ExportSites.
//   - rounds.go: CreateRound (the sample drawn by Sample, kept with each
//     site's type, region and unit as drawn), RoundSites.
//   - observations.go: ImportObservations and ImportResults from CSV.
//   - scoring.go: Open (a stored round loaded once), Scores and Ledger.
//
// Every import checks the whole file before it writes anything and then
// writes in one transaction with one trail entry.
//
// The formats, the arithmetic and the decisions taken where the contract
// is silent are described in docs/assessment.md.
package assess
