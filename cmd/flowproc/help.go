package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// flagCapture is the stderr a command is run with to describe it: the
// command's parseInterspersed call stores its FlagSet here and returns
// flag.ErrHelp instead of parsing, so the command returns before doing
// anything. Writes (the command's usage text) are buffered.
type flagCapture struct {
	fs  *flag.FlagSet
	buf bytes.Buffer
}

func (c *flagCapture) Write(p []byte) (int, error) { return c.buf.Write(p) }

// argKind says what a command's positional arguments are, for shell
// completion.
type argKind int

const (
	argNone argKind = iota // no positional arguments, or free text
	argDir                 // directories (DIR)
	argFile                // files or directories (FILE)
)

// commandInfo describes a command for help and completion.
type commandInfo struct {
	name, summary string
	// flags is the command's FlagSet (nil when the command does not parse
	// its arguments through parseInterspersed).
	flags *flag.FlagSet
	// usage is the command's usage text as -h prints it.
	usage string
	args  argKind
}

// describeCommands returns every registered command, sorted by name, with
// its flags and usage. It runs each command with "-h" and a flagCapture as
// stderr, so the commands need no second description of their flags.
func describeCommands() []commandInfo {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing a command starts may run
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]commandInfo, 0, len(names))
	for _, n := range names {
		c := commands[n]
		capt := &flagCapture{}
		c.run(ctx, []string{"-h"}, io.Discard, capt)
		info := commandInfo{name: n, summary: c.summary, flags: capt.fs}
		if capt.fs != nil {
			capt.buf.Reset()
			capt.fs.Usage()
		}
		info.usage = capt.buf.String()
		info.args = usageArgs(info.usage)
		out = append(out, info)
	}
	return out
}

// usageArgs reads the kind of positional arguments from the first "Usage:"
// line of a command's usage text: DIR for directories, FILE for files.
func usageArgs(usage string) argKind {
	for _, line := range strings.Split(usage, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "Usage:") {
			continue
		}
		switch {
		case strings.Contains(line, "FILE"):
			return argFile
		case strings.Contains(line, "DIR"):
			return argDir
		}
		return argNone
	}
	return argNone
}

// runHelp is "flowproc help [COMMAND]": the command list, or one command's
// usage (what "flowproc COMMAND -h" prints), on stdout.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "Usage: flowproc help [COMMAND]")
		return 2
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "flowproc help: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(ctx, []string{"-h"}, stdout, stdout)
}
