// Command mutationreport turns the gremlins results of scripts/mutate.sh into
// the tables of docs/mutation.md: per package, mutants killed, lived, not
// covered, timed out and not viable, the lived ones listed as equivalent in
// docs/mutation-equivalent.md, and the kill rate without them.
//
// Usage: mutationreport -equivalents docs/mutation-equivalent.md runs.tsv
// where each line of runs.tsv is: package dir, command, gremlins JSON file.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
)

// result is the part of gremlins' JSON output (--output) read here.
type result struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
	Elapsed float64 `json:"elapsed_time"`
}

// counts of one package's mutants by outcome.
type counts struct {
	killed, lived, notCovered, timedOut, notViable, equivalent int
	survivors                                                  []string // lived, not listed as equivalent
	elapsed                                                    float64
}

// killRate is killed (timed out counts as killed: the tests did not pass)
// over the mutants the tests ran, equivalent ones excluded.
func (c counts) killRate() float64 {
	detected := c.killed + c.timedOut
	if n := detected + c.lived - c.equivalent; n > 0 {
		return 100 * float64(detected) / float64(n)
	}
	return 100
}

// equivalentRow matches a table row of the equivalents file:
// | `dir/file.go:line:col` | MUTATOR_TYPE | reason |
var equivalentRow = regexp.MustCompile("^\\|\\s*`([^`]+:\\d+:\\d+)`\\s*\\|\\s*([A-Z_]+)\\s*\\|")

func readEquivalents(r io.Reader) (map[string]bool, error) {
	eq := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := equivalentRow.FindStringSubmatch(sc.Text()); m != nil {
			eq[m[1]+" "+m[2]] = true
		}
	}
	return eq, sc.Err()
}

// tally counts a package's mutants; dir prefixes gremlins' file names, which
// are relative to the package directory.
func tally(dir string, res *result, equivalent map[string]bool) counts {
	c := counts{elapsed: res.Elapsed}
	for _, f := range res.Files {
		for _, m := range f.Mutations {
			switch m.Status {
			case "KILLED":
				c.killed++
			case "LIVED":
				c.lived++
				id := fmt.Sprintf("%s:%d:%d %s", path.Join(dir, f.Name), m.Line, m.Column, m.Type)
				if equivalent[id] {
					c.equivalent++
				} else {
					c.survivors = append(c.survivors, id)
				}
			case "NOT COVERED":
				c.notCovered++
			case "TIMED OUT":
				c.timedOut++
			case "NOT VIABLE":
				c.notViable++
			}
		}
	}
	sort.Strings(c.survivors)
	return c
}

func main() {
	eqPath := flag.String("equivalents", "docs/mutation-equivalent.md", "the list of equivalent mutants")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mutationreport -equivalents FILE runs.tsv")
		os.Exit(2)
	}
	if err := run(os.Stdout, *eqPath, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "mutationreport:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, eqPath, runsPath string) error {
	eqFile, err := os.Open(eqPath)
	if err != nil {
		return err
	}
	defer eqFile.Close()
	equivalent, err := readEquivalents(eqFile)
	if err != nil {
		return err
	}
	runs, err := os.ReadFile(runsPath)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "| package | killed | lived | not covered | timed out | not viable | equivalent | kill rate | time |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	var commands, survivors []string
	for _, line := range strings.Split(strings.TrimSpace(string(runs)), "\n") {
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			return fmt.Errorf("%s: want 3 tab-separated fields: %q", runsPath, line)
		}
		b, err := os.ReadFile(fields[2])
		if err != nil {
			return err
		}
		var res result
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: %w", fields[2], err)
		}
		// The package column may carry a label after the directory: ". (jwt.go,…)".
		dir, _, _ := strings.Cut(fields[0], " ")
		c := tally(dir, &res, equivalent)
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %.1f%% | %.0fs |\n", fields[0],
			c.killed, c.lived, c.notCovered, c.timedOut, c.notViable, c.equivalent, c.killRate(), c.elapsed)
		commands = append(commands, fields[1])
		survivors = append(survivors, c.survivors...)
	}
	fmt.Fprint(w, "\nCommands:\n\n")
	for _, cmd := range commands {
		fmt.Fprintf(w, "    %s\n", cmd)
	}
	fmt.Fprintf(w, "\nLived, not listed as equivalent: %d\n", len(survivors))
	for _, s := range survivors {
		fmt.Fprintf(w, "- `%s`\n", s)
	}
	return nil
}
