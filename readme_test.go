package main

// The README's promises, checked: its length, its links and those of docs/,
// its flag tables against the flags the binaries define, what docs/ cites
// (tests, commands, files) against the code, and the two-node recipe, run as
// written with real processes.
//
// The README's other two commands are run by existing tests:
//   - ./run_local.sh by TestRunLocal (run_local_test.go), with its ports
//     moved, its pages, routes, a private message and Ctrl-C checked;
//   - ./test.sh by CI: .ci/run executes it (TestReadmeScriptsAreRun checks
//     that both stay so).

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
)

// readmeMaxLines is the most lines the README may have, as wc -l counts.
const readmeMaxLines = 200

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeDocs returns the Markdown files of docs/.
func readmeDocs(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md (%v)", err)
	}
	return docs
}

func TestReadmeLength(t *testing.T) {
	if n := strings.Count(readText(t, "README.md"), "\n"); n > readmeMaxLines {
		t.Errorf("README.md has %d lines, at most %d: move reference material to docs/", n, readmeMaxLines)
	}
}

// mdLine is one line of a Markdown file, with whether it is inside a fenced
// code block.
type mdLine struct {
	text string
	code bool
	n    int // 1-based line number
}

func mdLines(text string) []mdLine {
	var out []mdLine
	code := false
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			code = !code
			out = append(out, mdLine{l, true, i + 1})
			continue
		}
		out = append(out, mdLine{l, code, i + 1})
	}
	return out
}

// headingSlugs returns the anchors GitHub gives the headings of a Markdown
// text: lower case, punctuation dropped, spaces made hyphens, and -1, -2...
// after a repeated one.
func headingSlugs(text string) map[string]bool {
	slugs := map[string]bool{}
	seen := map[string]int{}
	for _, l := range mdLines(text) {
		m := regexp.MustCompile(`^#{1,6} +(.*?) *#*$`).FindStringSubmatch(l.text)
		if l.code || m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			slugs[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			slugs[slug] = true
		}
		seen[slug]++
	}
	return slugs
}

var (
	mdLink    = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	htmlSrc   = regexp.MustCompile(`<img [^>]*src="([^"]+)"`)
	codeSpan  = regexp.MustCompile("`[^`]*`")
	extScheme = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// mdTargets returns the link and image targets of a Markdown text, outside
// code blocks and code spans, with their line numbers.
func mdTargets(text string) map[string][]int {
	targets := map[string][]int{}
	for _, l := range mdLines(text) {
		if l.code {
			continue
		}
		line := codeSpan.ReplaceAllString(l.text, "")
		for _, re := range []*regexp.Regexp{mdLink, htmlSrc} {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				targets[m[1]] = append(targets[m[1]], l.n)
			}
		}
	}
	return targets
}

// TestReadmeLinks checks that every relative link and image of README.md and
// docs/*.md names a file that exists, and a heading of it for an #anchor;
// that the README links every file of docs/; and that each file of docs/
// leads back to the README.
func TestReadmeLinks(t *testing.T) {
	files := append([]string{"README.md"}, readmeDocs(t)...)
	linked := map[string]bool{}
	for _, f := range files {
		text := readText(t, f)
		targets := mdTargets(text)
		if len(targets) == 0 {
			t.Errorf("%s links nothing", f)
		}
		for target, lines := range targets {
			if extScheme.MatchString(target) {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), filepath.FromSlash(path))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s:%v: link to %s: %v", f, lines, target, err)
					continue
				}
				if f == "README.md" {
					linked[filepath.ToSlash(dest)] = true
				}
			}
			if anchor != "" {
				if !strings.HasSuffix(dest, ".md") {
					t.Errorf("%s:%v: anchor #%s into %s, which is not Markdown", f, lines, anchor, dest)
				} else if !headingSlugs(readText(t, dest))[anchor] {
					t.Errorf("%s:%v: link to %s: %s has no heading #%s", f, lines, target, dest, anchor)
				}
			}
		}
		if f != "README.md" {
			head, _, _ := strings.Cut(text, "\n\n## ")
			if !strings.Contains(head[:min(len(head), 600)], "](../README.md)") {
				t.Errorf("%s does not lead back to the README (../README.md) at its top", f)
			}
		}
	}
	for _, f := range files[1:] {
		if !linked[filepath.ToSlash(f)] {
			t.Errorf("README.md does not link %s", f)
		}
	}
}

// flagRow is a flag of a README table, or of a binary's -h.
type flagRow struct{ name, def string }

// readmeFlagTable returns the flags of the table after <!-- flags: which -->.
func readmeFlagTable(t *testing.T, readme, which string) []flagRow {
	t.Helper()
	marker := "<!-- flags: " + which + " -->"
	_, rest, ok := strings.Cut(readme, marker)
	if !ok {
		t.Fatalf("README.md has no %s before the %s flags table", marker, which)
	}
	var rows []flagRow
	for _, l := range strings.Split(strings.TrimLeft(rest, "\n"), "\n") {
		if !strings.HasPrefix(l, "|") {
			break
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		if len(cells) < 3 {
			t.Fatalf("%s flags table: row %q has %d cells", which, l, len(cells))
		}
		name := strings.TrimSpace(cells[0])
		if name == "flag" || strings.HasPrefix(name, "---") {
			continue
		}
		if !strings.HasPrefix(name, "`-") || !strings.HasSuffix(name, "`") {
			t.Errorf("%s flags table: first cell %q is not a `-flag`", which, name)
			continue
		}
		rows = append(rows, flagRow{strings.Trim(name, "`-"), strings.TrimSpace(cells[1])})
	}
	if len(rows) == 0 {
		t.Fatalf("the %s flags table after %s has no rows", which, marker)
	}
	return rows
}

// helpFlags returns the flags a binary's -h lists, with their defaults ("" for
// none); -h must exit 0.
func helpFlags(t *testing.T, bin string) []flagRow {
	t.Helper()
	out, err := exec.Command(bin, "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("%s -h: %v\n%s", bin, err, out)
	}
	var rows []flagRow
	name := regexp.MustCompile(`^  -(\w+)`)
	def := regexp.MustCompile(`\(default "?([^")]*)"?\)$`)
	for _, l := range strings.Split(string(out), "\n") {
		if m := name.FindStringSubmatch(l); m != nil {
			rows = append(rows, flagRow{name: m[1]})
		} else if m := def.FindStringSubmatch(strings.TrimSpace(l)); m != nil && len(rows) > 0 && strings.HasPrefix(l, "    ") {
			rows[len(rows)-1].def = m[1]
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s -h lists no flags:\n%s", bin, out)
	}
	return rows
}

// TestReadmeFlagsMatchTheBinaries compares the README's two flags tables with
// the -h of the gossiper and the client: the same flags, and the defaults
// they print (a flag with no default is "(none)", "(required)" or "off").
func TestReadmeFlagsMatchTheBinaries(t *testing.T) {
	readme := readText(t, "README.md")
	gossiper, client := proctest.Binaries(t)
	for which, bin := range map[string]string{"gossiper": gossiper, "client": client} {
		table := readmeFlagTable(t, readme, which)
		help := helpFlags(t, bin)
		byName := map[string]string{}
		for _, r := range help {
			byName[r.name] = r.def
		}
		inTable := map[string]bool{}
		for _, r := range table {
			if inTable[r.name] {
				t.Errorf("%s flags table: -%s twice", which, r.name)
			}
			inTable[r.name] = true
			def, ok := byName[r.name]
			switch {
			case !ok:
				t.Errorf("%s flags table: -%s, which %s -h does not list", which, r.name, which)
			case def != "" && r.def != "`"+def+"`":
				t.Errorf("%s flags table: -%s defaults to %s, but -h says %q", which, r.name, r.def, def)
			case def == "" && !slices.Contains([]string{"(none)", "(required)", "off"}, r.def):
				t.Errorf("%s flags table: -%s defaults to %s, but -h gives no default", which, r.name, r.def)
			}
		}
		for _, r := range help {
			if !inTable[r.name] {
				t.Errorf("%s -h lists -%s, which the README's %s flags table lacks", which, r.name, which)
			}
		}
	}
}

// readmeSection returns the text after marker up to the next heading.
func readmeSection(t *testing.T, readme, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, marker)
	if !ok {
		t.Fatalf("README.md has no %s", marker)
	}
	for _, l := range mdLines(rest) {
		if !l.code && strings.HasPrefix(l.text, "#") {
			return strings.Join(strings.Split(rest, "\n")[:l.n-1], "\n")
		}
	}
	return rest
}

// mdBlock is a fenced block: its language, its lines, and the name an
// <!-- output: NAME --> just before it gives.
type mdBlock struct {
	lang, output string
	lines        []string
}

func mdBlocks(text string) []mdBlock {
	var blocks []mdBlock
	var cur *mdBlock
	output := ""
	outputMarker := regexp.MustCompile(`^<!-- output: (\S+) -->$`)
	for _, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &mdBlock{lang: strings.TrimPrefix(trimmed, "```"), output: output}
			output = ""
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		case outputMarker.MatchString(trimmed):
			output = outputMarker.FindStringSubmatch(trimmed)[1]
		case trimmed != "":
			output = ""
		}
	}
	return blocks
}

// commandLines returns the command lines of a section's sh blocks, without
// comment lines and blank ones.
func commandLines(section string) []string {
	var lines []string
	for _, b := range mdBlocks(section) {
		if b.lang != "sh" {
			continue
		}
		for _, l := range b.lines {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

var (
	ipv4         = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}\b`)
	portLiteral  = regexp.MustCompile(`(127\.0\.0\.1:|-UIPort=|-GUIPort=)(\d+)\b`)
	startLine    = regexp.MustCompile(`^cd (\S+) && (\S+) (.+)$`)
	metahash     = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	shellComment = regexp.MustCompile(`\s+#.*$`)
)

func flagValue(line, flag string) string {
	m := regexp.MustCompile(`(?:^| )-` + flag + `=('[^']*'|\S+)`).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return strings.Trim(m[1], "'")
}

// TestReadmeTwoMachinesIsTheRecipe checks that the two-machine commands are
// the two-node recipe's, with LAN addresses instead of 127.0.0.1, so that
// running the recipe (TestReadmeTwoNodeRecipe) runs them too.
func TestReadmeTwoMachinesIsTheRecipe(t *testing.T) {
	readme := readText(t, "README.md")
	recipe := commandLines(readmeSection(t, readme, "<!-- recipe: two-nodes -->"))
	machines := commandLines(readmeSection(t, readme, "<!-- recipe: two-machines -->"))
	if len(machines) < 2 {
		t.Fatalf("the two-machines block has %d commands, want one a machine", len(machines))
	}
	for _, l := range machines {
		l = shellComment.ReplaceAllString(l, "")
		own, _, _ := strings.Cut(flagValue(l, "gossipAddr"), ":")
		for _, ip := range ipv4.FindAllString(l, -1) {
			if strings.HasPrefix(ip, "127.") || ip == "0.0.0.0" {
				t.Errorf("two machines: %q uses %s, not a LAN address", l, ip)
			}
		}
		for _, p := range strings.Split(flagValue(l, "peers"), ",") {
			if peer, _, _ := strings.Cut(p, ":"); peer == own {
				t.Errorf("two machines: %q has a peer on its own address %s", l, own)
			}
		}
		local := ipv4.ReplaceAllString(l, "127.0.0.1")
		if !slices.Contains(recipe, local) {
			t.Errorf("two machines: %q is not a command of the two-node recipe with its addresses changed (%q)", l, local)
		}
	}
}

// recipeNode is a gossiper the recipe started.
type recipeNode struct {
	name, addr, uiPort, dir string
	stdout, stderr          string // files
	cmd                     *exec.Cmd
	exited                  chan struct{}
}

func (n *recipeNode) out() string {
	b, _ := os.ReadFile(n.stdout)
	return string(b)
}

func (n *recipeNode) alive(t *testing.T) {
	t.Helper()
	select {
	case <-n.exited:
		b, _ := os.ReadFile(n.stderr)
		t.Fatalf("%s exited: %v; stderr:\n%s", n.name, n.cmd.ProcessState, b)
	default:
	}
}

// TestReadmeTwoNodeRecipe runs the README's two-node recipe as written, in a
// folder of its own and with every port moved to a free one: the build, two
// gossipers (real processes, ended by their PIDs with Ctrl-C's SIGINT), and
// the client commands of the third terminal. It checks that each chat
// message reaches the other node (RUMOR), each private message its
// destination (PRIVATE), each download is the shared file, and that the
// lines the README says Bob prints are printed.
func TestReadmeTwoNodeRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("the recipe builds the binaries and runs two gossipers")
	}
	readme := readText(t, "README.md")
	section := readmeSection(t, readme, "<!-- recipe: two-nodes -->")
	lines := commandLines(section)
	for _, l := range lines {
		for _, ip := range ipv4.FindAllString(l, -1) {
			if ip != "127.0.0.1" {
				t.Fatalf("recipe: %q uses %s; the recipe runs on one machine, on 127.0.0.1", l, ip)
			}
		}
	}

	// Each node's three ports are distinct from every other port, and each
	// literal port gets a free one, the same wherever it appears.
	var own []string
	tcp := map[string]bool{}
	for _, l := range lines {
		if strings.Contains(l, "-gossipAddr=") {
			_, gossip, _ := strings.Cut(flagValue(l, "gossipAddr"), ":")
			ui, gui := flagValue(l, "UIPort"), flagValue(l, "GUIPort")
			if ui == "" || gui == "" {
				t.Fatalf("recipe: %q does not set -UIPort and -GUIPort: the defaults of two nodes clash", l)
			}
			own = append(own, gossip, ui, gui)
			tcp[gui] = true
		}
	}
	for i, p := range own {
		if slices.Contains(own[:i], p) {
			t.Errorf("recipe: port %s is given twice (gossip, UI and page ports of the nodes: %v)", p, own)
		}
	}
	ports := map[string]string{}
	taken := map[int]bool{}
	for _, l := range lines {
		for _, m := range portLiteral.FindAllStringSubmatch(l, -1) {
			if _, ok := ports[m[2]]; ok {
				continue
			}
			network := "udp"
			if tcp[m[2]] {
				network = "tcp"
			}
			p := testkit.FreePort(t, network)
			for taken[p] {
				p = testkit.FreePort(t, network)
			}
			taken[p] = true
			ports[m[2]] = strconv.Itoa(p)
		}
	}
	remap := func(s string) string {
		return portLiteral.ReplaceAllStringFunc(s, func(lit string) string {
			m := portLiteral.FindStringSubmatch(lit)
			return m[1] + ports[m[2]]
		})
	}

	work := t.TempDir()
	var nodes []*recipeNode
	byUI := map[string]*recipeNode{}
	byName := map[string]*recipeNode{}
	shared := map[string]string{} // metahash -> the shared file
	var lastHash string
	type sent struct{ from, dest, text string }
	var chats, privates []sent
	type download struct {
		by         *recipeNode
		file, hash string
	}
	var downloads []download
	ready := false

	for _, raw := range lines {
		line := remap(raw)
		switch {
		case strings.HasPrefix(line, "go build"):
			for _, part := range strings.Split(line, " && ") {
				f := strings.Fields(part)
				if len(f) != 5 || f[0] != "go" || f[1] != "build" || f[2] != "-o" {
					t.Fatalf("recipe: %q: the test runs builds of the form go build -o OUT PKG", part)
				}
				out, err := exec.Command("go", "build", "-o", filepath.Join(work, f[3]), f[4]).CombinedOutput()
				if err != nil {
					t.Fatalf("recipe: %s: %v\n%s", part, err, out)
				}
			}

		case strings.Contains(line, "-gossipAddr="):
			m := startLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("recipe: %q: the test starts gossipers written as cd DIR && PROGRAM FLAGS", raw)
			}
			n := &recipeNode{name: flagValue(line, "name"), addr: flagValue(line, "gossipAddr"),
				uiPort: flagValue(line, "UIPort"), dir: filepath.Join(work, m[1]), exited: make(chan struct{})}
			logs := t.TempDir()
			n.stdout, n.stderr = filepath.Join(logs, n.name+".out"), filepath.Join(logs, n.name+".err")
			stdout, err := os.Create(n.stdout)
			if err != nil {
				t.Fatal(err)
			}
			stderr, err := os.Create(n.stderr)
			if err != nil {
				t.Fatal(err)
			}
			// exec: the shell becomes the gossiper, whose PID the test
			// then holds.
			n.cmd = exec.Command("bash", "-c", "cd "+m[1]+" && exec "+m[2]+" "+m[3])
			n.cmd.Dir, n.cmd.Stdout, n.cmd.Stderr = work, stdout, stderr
			err = n.cmd.Start()
			stdout.Close()
			stderr.Close()
			if err != nil {
				t.Fatal(err)
			}
			go func() { n.cmd.Wait(); close(n.exited) }()
			t.Cleanup(func() {
				// Ctrl-C, as the README says, by the node's PID.
				n.cmd.Process.Signal(syscall.SIGINT)
				select {
				case <-n.exited:
					if !n.cmd.ProcessState.Success() {
						t.Errorf("%s after Ctrl-C (SIGINT): %v, want exit status 0", n.name, n.cmd.ProcessState)
					}
				case <-time.After(5 * time.Second):
					t.Errorf("%s still runs 5 s after Ctrl-C (SIGINT)", n.name)
					n.cmd.Process.Kill()
					<-n.exited
				}
				if t.Failed() {
					b, _ := os.ReadFile(n.stderr)
					t.Logf("%s's stderr:\n%s", n.name, b)
				}
			})
			nodes = append(nodes, n)
			byUI[n.uiPort], byName[n.name] = n, n

		default:
			// The README has the user wait until each node has a route
			// to the others (its DSDV lines) before the client commands.
			if len(nodes) > 0 && !ready {
				for _, n := range nodes {
					for _, o := range nodes {
						if o == n {
							continue
						}
						want := "DSDV " + o.name + " " + o.addr + "\n"
						testkit.Eventually(t, 10*time.Second, n.name+" prints "+strings.TrimSpace(want), func() bool {
							n.alive(t)
							return strings.Contains(n.out(), want)
						})
					}
				}
				ready = true
			}
			if strings.Contains(line, "METAHASH") {
				if lastHash == "" {
					t.Fatalf("recipe: %q needs a metahash, and no command before it printed one", raw)
				}
				line = strings.ReplaceAll(line, "METAHASH", lastHash)
			}
			cmd := exec.Command("bash", "-c", line)
			cmd.Dir = work
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("recipe: %s: %v\nstdout: %s\nstderr: %s", line, err, stdout.String(), stderr.String())
			}
			if h := metahash.FindString(stdout.String()); h != "" {
				lastHash = h
			}
			if !strings.Contains(line, "client") {
				continue
			}
			n := byUI[flagValue(line, "UIPort")]
			if n == nil {
				t.Fatalf("recipe: %q: no node of the recipe has that UI port", raw)
			}
			msg, dest, file, req := flagValue(line, "msg"), flagValue(line, "dest"), flagValue(line, "file"), flagValue(line, "request")
			switch {
			case msg != "" && dest == "":
				chats = append(chats, sent{n.name, "", msg})
			case msg != "":
				privates = append(privates, sent{n.name, dest, msg})
			case file != "" && req == "":
				h := metahash.FindString(stdout.String())
				if h == "" {
					t.Fatalf("recipe: %s printed no metahash: %q", line, stdout.String())
				}
				shared[h] = filepath.Join(n.dir, "_SharedFiles", file)
			case file != "":
				downloads = append(downloads, download{n, file, req})
			}
		}
	}
	if len(nodes) < 2 || len(chats) == 0 || len(privates) == 0 || len(downloads) == 0 {
		t.Fatalf("recipe: %d nodes, %d chat messages, %d private messages, %d downloads; want at least 2, 1, 1, 1",
			len(nodes), len(chats), len(privates), len(downloads))
	}

	has := func(n *recipeNode, what string, re *regexp.Regexp) {
		t.Helper()
		testkit.Eventually(t, 10*time.Second, n.name+" prints "+what, func() bool {
			return re.MatchString(n.out())
		})
	}
	for _, c := range chats {
		from := byName[c.from]
		for _, n := range nodes {
			if n != from {
				has(n, "RUMOR of "+c.from+": "+c.text, regexp.MustCompile(`(?m)^RUMOR origin `+regexp.QuoteMeta(c.from)+
					` from `+regexp.QuoteMeta(from.addr)+` ID \d+ contents `+regexp.QuoteMeta(c.text)+`$`))
			}
		}
	}
	for _, p := range privates {
		n := byName[p.dest]
		if n == nil {
			t.Fatalf("recipe: a private message to %s, not a node of the recipe", p.dest)
		}
		line := "PRIVATE origin " + p.from + " hop-limit 10 contents " + p.text
		has(n, line, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(line)+`$`))
	}
	for _, d := range downloads {
		line := "RECONSTRUCTED file " + d.file
		has(d.by, line, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(line)+`$`))
		want, err := os.ReadFile(shared[d.hash])
		if err != nil {
			t.Fatalf("recipe: the file of metahash %s: %v", d.hash, err)
		}
		if got, err := os.ReadFile(filepath.Join(d.by.dir, "_Downloads", d.file)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("recipe: %s's _Downloads/%s: %q, %v; want %q", d.by.name, d.file, got, err, want)
		}
	}

	// What the README says a node prints (any message ID).
	outputs := 0
	for _, b := range mdBlocks(section) {
		if b.output == "" {
			continue
		}
		n := byName[b.output]
		if n == nil {
			t.Fatalf("README: output of %s, not a node of the recipe", b.output)
		}
		for _, l := range b.lines {
			re := regexp.QuoteMeta(remap(strings.TrimSpace(l)))
			re = regexp.MustCompile(` ID \d+ `).ReplaceAllString(re, ` ID \d+ `)
			has(n, strings.TrimSpace(l), regexp.MustCompile(`(?m)^`+re+`$`))
			outputs++
		}
	}
	if outputs == 0 {
		t.Error("README: the recipe shows no output (<!-- output: NAME --> before a block)")
	}
}

// TestReadmeCitesWhatExists checks what README.md and docs/ cite against the
// code: test and fuzz functions by name, go test commands (their package,
// -run pattern, -fuzz target and the test flags they set), go run ./bench
// commands and their flags, and the files they name.
func TestReadmeCitesWhatExists(t *testing.T) {
	// The test functions of each package folder, and the text of its tests.
	funcs := map[string][]string{}
	testText := map[string]string{}
	benchText := ""
	testFunc := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "nodes" || d.Name() == "artifacts") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if strings.HasSuffix(path, "_test.go") {
			for _, m := range testFunc.FindAllStringSubmatch(string(b), -1) {
				funcs[dir] = append(funcs[dir], m[1])
			}
			testText[dir] += string(b)
		}
		if dir == "bench" || strings.HasPrefix(dir, "bench/") {
			benchText += string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, names := range funcs {
		all = append(all, names...)
	}

	goTest := regexp.MustCompile(`go test (\./\S*)((?: [^` + "`" + `\n]*)?)`)
	goRunBench := regexp.MustCompile(`go run \./bench ([a-z]+)((?: [^` + "`" + `\n]*)?)`)
	flagArg := regexp.MustCompile(`(?:^| )-([a-z][\w-]*)(?:[= ]('[^']*'|[^ -][^ ]*))?`)
	fileCite := regexp.MustCompile("`([\\w./*-]+\\.(?:go|sh|txt))`")
	standard := []string{"v", "run", "fuzz", "fuzztime", "count", "race", "timeout", "short", "bench", "cpu"}

	for _, f := range append([]string{"README.md"}, readmeDocs(t)...) {
		text := readText(t, f)
		for _, name := range regexp.MustCompile(`\b(?:Test|Fuzz)[A-Z]\w*`).FindAllString(text, -1) {
			if !slices.Contains(all, name) {
				t.Errorf("%s cites %s, which no _test.go defines", f, name)
			}
		}
		for _, m := range goTest.FindAllStringSubmatch(text, -1) {
			pkg := strings.TrimSuffix(strings.TrimPrefix(m[1], "./"), "/...")
			if pkg == "" {
				pkg = "."
			}
			if _, ok := funcs[pkg]; !ok && pkg != "." {
				t.Errorf("%s: %q: no tests in %s", f, m[0], pkg)
				continue
			}
			for _, fm := range flagArg.FindAllStringSubmatch(m[2], -1) {
				flag, val := fm[1], strings.Trim(fm[2], "'")
				switch {
				case flag == "run" && val != "^$":
					re, err := regexp.Compile(strings.Split(val, "/")[0])
					if err != nil || !slices.ContainsFunc(funcs[pkg], re.MatchString) {
						t.Errorf("%s: %q: -run %s matches no test of %s (%v)", f, m[0], val, pkg, err)
					}
				case flag == "fuzz":
					if !slices.Contains(funcs[pkg], val) {
						t.Errorf("%s: %q: no %s in %s", f, m[0], val, pkg)
					}
				case !slices.Contains(standard, flag) && !strings.Contains(testText[pkg], `"`+flag+`"`):
					t.Errorf("%s: %q: the tests of %s define no flag -%s", f, m[0], pkg, flag)
				}
			}
		}
		for _, m := range goRunBench.FindAllStringSubmatch(text, -1) {
			if !strings.Contains(benchText, `{"`+m[1]+`", `) {
				t.Errorf("%s: %q: bench has no command %s", f, m[0], m[1])
			}
			for _, fm := range flagArg.FindAllStringSubmatch(m[2], -1) {
				if !strings.Contains(benchText, `"`+fm[1]+`"`) {
					t.Errorf("%s: %q: bench defines no flag -%s", f, m[0], fm[1])
				}
			}
		}
		if f == "README.md" {
			continue // its files are the recipe's own
		}
		for _, m := range fileCite.FindAllStringSubmatch(text, -1) {
			if !strings.Contains(m[1], "/") {
				// A bare name: a scenario, a script or a source file
				// somewhere in the tree.
				found, _ := filepath.Glob(filepath.Join("*", m[1]))
				more, _ := filepath.Glob(filepath.Join("*", "*", "*", m[1]))
				here, _ := filepath.Glob(m[1])
				if len(found)+len(more)+len(here) == 0 {
					t.Errorf("%s cites %s, which is nowhere in the tree", f, m[1])
				}
				continue
			}
			// A path from the top of the tree, or from a package folder
			// the text is about.
			found, _ := filepath.Glob(filepath.FromSlash(m[1]))
			inPkg, _ := filepath.Glob(filepath.Join("*", filepath.FromSlash(m[1])))
			if len(found)+len(inPkg) == 0 {
				t.Errorf("%s cites %s, which does not exist", f, m[1])
			}
		}
	}
}

// TestReadmeScriptsAreRun checks that the scripts the README tells users to
// run are run by the tests: run_local.sh by TestRunLocal, test.sh by CI.
func TestReadmeScriptsAreRun(t *testing.T) {
	readme := readText(t, "README.md")
	for script, runner := range map[string]struct{ file, says string }{
		"./run_local.sh": {"run_local_test.go", `exec.Command("bash", "run_local.sh")`},
		"./test.sh":      {".ci/run", "exec ./test.sh"},
	} {
		if !strings.Contains(readme, "```sh\n"+script+"\n```") {
			t.Errorf("README.md does not give %s as a command", script)
		}
		b, err := os.ReadFile(runner.file)
		if errors.Is(err, fs.ErrNotExist) || !strings.Contains(string(b), runner.says) {
			t.Errorf("%s no longer runs %s (%v): the README's command is untested", runner.file, script, err)
		}
	}
}
