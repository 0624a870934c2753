package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func quiet() *env { return &env{stdout: io.Discard, stderr: io.Discard} }

// The command line refuses what it cannot do in one line and a hint, with
// exit status 2 for a wrong command line, before any terminal UI starts.
func TestCommandLineRefusals(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sim") // t.TempDir is open to others (0755)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--sim-dir", dir, "--reader", "usb"}, exitUsage, `unknown reader "usb"`},
		{[]string{"--sim-dir", dir, "--hsm", "cloud"}, exitFailure, `unknown HSM "cloud"`},
		{[]string{"--pin-timeout", "0s"}, exitUsage, "--pin-timeout 0s: must be more than zero"},
		{[]string{"--insert-timeout", "5x"}, exitUsage, "--insert-timeout 5x: not a duration: use a number and a unit, e.g. 30s"},
		{[]string{"--insert-timeout"}, exitUsage, "--insert-timeout needs a value"},
		{[]string{"--sim-cards", "0"}, exitUsage, "a simulated deck has 1 to 9 cards"},
		{[]string{"--sim-cards", "100"}, exitUsage, "a simulated deck has 1 to 9 cards"},
		{[]string{"--sim-cards", "five"}, exitUsage, "a simulated deck has 1 to 9 cards"},
		{[]string{"--colour"}, exitUsage, "unknown flag --colour"},
		{[]string{"---x"}, exitUsage, `"---x" is not a flag`},
		{[]string{"--sim-dir", dir, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"--sim-dir", dir, "vpcd", "1"}, exitUsage, `"vpcd" is a command: put it first`},
		{[]string{"vpcd"}, exitUsage, "say which card to serve: hsmcards vpcd CARD"},
		{[]string{"vpcd", "--sim-dir", filepath.Join(t.TempDir(), "sim"), "--sim-cards", "2", "7"}, exitUsage, "the deck has cards 1 to 2, not 7"},
		{[]string{"vpcd", "--sim-dir", dir, "one"}, exitUsage, `CARD is a card number of the deck, not "one"`},
		{[]string{"vpcd", "--sim-dir", dir, "1", "192.0.2.7:35963"}, exitFailure, "is not on this machine"},
		{[]string{"vpcd", "--sim-dir", dir, "1", "localhost"}, exitUsage, `"localhost" is not HOST:PORT`},
		{[]string{"help", "nothing"}, exitUsage, `there is no command "nothing"`},
		{[]string{"inspect", "--reader", "pcsc", "--card", "2"}, exitUsage, "--card is for the simulated reader"},
		{[]string{"inspect", "--card", "10"}, exitUsage, "a simulated card is numbered 1 to 9"},
	} {
		var stderr strings.Builder
		e := &env{stdout: io.Discard, stderr: &stderr}
		code := exitCode(run(tc.args, e), e)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != tc.code || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%v: exit %d, %q; want %d, %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
		// One line and a hint, never the whole usage.
		if len(lines) > 2 || len(lines) == 2 && !strings.HasPrefix(lines[1], "hsmcards: hint: ") {
			t.Errorf("%v: more than an error and a hint:\n%s", tc.args, stderr.String())
		}
	}
}

// Every command has its own help, the same from "help CMD" and "CMD --help",
// on standard output with exit 0, listing its flags with two dashes and
// fitting 80 columns.
func TestHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run("hsmcards "+c.name, func(t *testing.T) {
			var byFlag, byHelp strings.Builder
			words := strings.Fields(c.name)
			err := run(append(append([]string{}, words...), "--help"), &env{stdout: &byFlag, stderr: io.Discard})
			if !errors.Is(err, flag.ErrHelp) || exitCode(err, quiet()) != exitOK {
				t.Fatalf("--help: %v", err)
			}
			if err := run(append([]string{"help"}, words...), &env{stdout: &byHelp, stderr: io.Discard}); err != nil {
				t.Fatal(err)
			}
			help := byFlag.String()
			if help != byHelp.String() {
				t.Errorf("help %s differs from %s --help", c.name, c.name)
			}
			if want := strings.TrimSpace("usage: hsmcards " + c.name); !strings.HasPrefix(help, want) {
				t.Errorf("help starts %q", help[:min(len(help), 40)])
			}
			for _, l := range strings.Split(help, "\n") {
				if len([]rune(l)) > helpWidth {
					t.Errorf("line longer than %d columns: %q", helpWidth, l)
				}
				if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "-") && !strings.HasPrefix(f[0], "--") && f[0] != "-o," {
					t.Errorf("a flag with one dash: %q", l)
				}
			}
		})
	}
	var help strings.Builder
	run([]string{"--help"}, &env{stdout: &help, stderr: io.Discard})
	for _, want := range []string{"--sim-dir DIR", "--audit FILE", "--insert-timeout TIME", "vpcd", "inspect", "report", "audit verify"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("hsmcards --help lacks %q", want)
		}
	}
	var vpcdHelp strings.Builder
	run([]string{"vpcd", "--help"}, &env{stdout: &vpcdHelp, stderr: io.Discard})
	if !strings.Contains(vpcdHelp.String(), "--allow-remote") || strings.Contains(vpcdHelp.String(), "--pin-timeout") {
		t.Errorf("hsmcards vpcd --help is not vpcd's:\n%s", vpcdHelp.String())
	}
}

// Flags come before or after the arguments; -- ends them.
func TestFlagsAnywhere(t *testing.T) {
	fs := newFlagSet("x")
	var out string
	var json bool
	fs.str(&out, "output", "", "`FILE`")
	fs.alias("o", "output")
	fs.boolean(&json, "json", "")
	rest, err := fs.parse([]string{"a", "-o", "f.pdf", "b", "--json", "--", "--c"})
	if err != nil || out != "f.pdf" || !json || strings.Join(rest, " ") != "a b --c" {
		t.Fatalf("rest %q, out %q, json %v, err %v", rest, out, json, err)
	}
	if _, err := fs.parse([]string{"--output=g.md"}); err != nil || out != "g.md" {
		t.Fatalf("--output=: %q %v", out, err)
	}
}

func TestVPCDAddress(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"localhost:35963", false, true},
		{"127.0.0.1:35964", false, true},
		{"127.8.9.10:35963", false, true},
		{"[::1]:35963", false, true},
		{"[::ffff:127.0.0.1]:35963", false, true},
		{"192.0.2.7:35963", false, false},
		{"vpcd.example:35963", false, false},
		{":35963", false, false},
		{"[::]:35963", false, false},
		{"192.0.2.7:35963", true, true},
		{"localhost:0", false, false},
		{"localhost:http", false, false},
	} {
		if err := checkVPCDAddr(tc.addr, tc.remote); (err == nil) != tc.ok {
			t.Errorf("%s (remote %v): %v", tc.addr, tc.remote, err)
		}
	}
}

// --audit, --apdu-log and --sim-dir refuse links and what others can reach,
// naming the path and the fix; what the wizard creates is 0600 and 0700.
func TestFilesAndPaths(t *testing.T) {
	base := t.TempDir()
	wizardOpts := func(mod func(*options)) *options {
		o := &options{reader: "sim", hsm: "sim", simDir: filepath.Join(base, "sim"), simCards: 3}
		mod(o)
		return o
	}
	// What is created is private.
	o := wizardOpts(func(o *options) {
		o.audit, o.apduLog = filepath.Join(base, "audit.jsonl"), filepath.Join(base, "apdu.log")
	})
	s, err := prepareWizard(o)
	if err != nil {
		t.Fatal(err)
	}
	s.close()
	for path, want := range map[string]os.FileMode{o.audit: 0o600, o.apduLog: 0o600, o.simDir: 0o700, deckDir(o.simDir): 0o700,
		filepath.Join(deckDir(o.simDir), "card-01.json"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", path, fi.Mode().Perm(), err, want)
		}
	}

	link := filepath.Join(base, "link")
	os.Symlink(filepath.Join(base, "target"), link)
	open := filepath.Join(base, "open.log")
	os.WriteFile(open, nil, 0o600)
	os.Chmod(open, 0o644)
	openDir := filepath.Join(base, "opendir")
	os.Mkdir(openDir, 0o700)
	os.Chmod(openDir, 0o755)
	for _, tc := range []struct {
		name string
		o    *options
		want []string
	}{
		{"audit link", wizardOpts(func(o *options) { o.audit = link }), []string{"--audit: ", link, "symbolic link", "hint: name the file"}},
		{"apdu log link", wizardOpts(func(o *options) { o.apduLog = link }), []string{"--apdu-log: ", link, "symbolic link"}},
		{"sim dir link", wizardOpts(func(o *options) { o.simDir = link }), []string{"--sim-dir: ", link, "symbolic link"}},
		{"audit open", wizardOpts(func(o *options) { o.audit = open }), []string{"--audit: ", open, "mode 0644", "hint: chmod 600 " + open}},
		{"apdu log open", wizardOpts(func(o *options) { o.apduLog = open }), []string{"--apdu-log: ", "mode 0644", "chmod 600 " + open}},
		{"sim dir open", wizardOpts(func(o *options) { o.simDir = openDir }), []string{"--sim-dir: ", openDir, "mode 0755", "hint: chmod 700 " + openDir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := prepareWizard(tc.o)
			s.close()
			var msg strings.Builder
			exitCode(err, &env{stdout: io.Discard, stderr: &msg})
			for _, w := range tc.want {
				if !strings.Contains(msg.String(), w) {
					t.Errorf("%q lacks %q", msg.String(), w)
				}
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(base, "target")); err == nil {
		t.Error("something was created through the link")
	}
}
