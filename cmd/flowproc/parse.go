package main

import (
	"errors"
	"flag"
)

// parseInterspersed parses args with fs like fs.Parse, but flags may also
// follow positional arguments ("flowproc dev ./app -upstream URL"), as
// users of most command-line tools expect. Flags may be written with one
// or two dashes (-watch, --watch). A "--" argument ends flag parsing: what
// follows is positional even when it starts with a dash. Afterwards
// fs.Args() holds the positional arguments in their order.
//
// Every command parses its arguments through this function: that is how
// "flowproc completion" learns each command's flags (see describeCommands).
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	if c, ok := fs.Output().(*flagCapture); ok {
		c.fs = fs // describing the command, not running it
		return flag.ErrHelp
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" && !takesValue(fs, args, n-1) {
			pos = append(pos, rest...) // Parse stopped at "--"
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	// Leave the positional arguments in fs.Args(); "--" keeps Parse from
	// reading any of them as flags.
	return fs.Parse(append([]string{"--"}, pos...))
}

// takesValue reports whether args[i] is the value of the flag before it
// ("-name --"), not a terminator.
func takesValue(fs *flag.FlagSet, args []string, i int) bool {
	if i == 0 {
		return false
	}
	name, ok := flagName(args[i-1])
	if !ok {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	if b, isBool := f.Value.(interface{ IsBoolFlag() bool }); isBool && b.IsBoolFlag() {
		return false
	}
	return true
}

// flagName returns the name in "-name" or "--name" (without "=value"
// forms, which carry their value themselves).
func flagName(arg string) (string, bool) {
	switch {
	case len(arg) > 2 && arg[:2] == "--":
		arg = arg[2:]
	case len(arg) > 1 && arg[0] == '-':
		arg = arg[1:]
	default:
		return "", false
	}
	for i := 0; i < len(arg); i++ {
		if arg[i] == '=' {
			return "", false
		}
	}
	return arg, true
}

// parseExit is the exit code of a command whose flags did not parse: 0
// for -h/--help (the usage was printed as asked), 2 for a usage error.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
