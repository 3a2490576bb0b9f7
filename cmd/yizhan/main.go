// Command yizhan is the remote video mediation server: one binary with the SFU, the
// signal endpoint, the mediation API, the recorder and the web app.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `yizhan — remote video mediation server

usage:
  yizhan serve [--dev] [--http ADDR] [--udp-port N] [--data DIR] [--api-key K --api-secret S] [--node-ip IP]
  yizhan token --api-key K --api-secret S --room R --identity I [--name N] [--ttl 1h] [--publish=false] [--subscribe=false]
  yizhan centre add --data DIR --code C --name N --tier city|township|village [--parent P]
  yizhan user add --data DIR --username U --name N --centre C --role R[,R...] [--gold] --password-stdin
  yizhan config check [serve flags]   validate a configuration, print the effective one (secrets masked)
  yizhan verify PATH [--key FILE] [--data DIR]      check a case file offline: hashes, event chain, signatures
  yizhan signing-key [--data DIR]                   print the server's public key (PEM)
  yizhan export CASE [SESSION] --out FILE.mp4 [--data DIR]   composite video of a session (needs ffmpeg)
  yizhan version

Run "yizhan COMMAND --help" for the flags of one command.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := commands()
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "yizhan: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := cmd(args[1:], stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "yizhan %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type command func(args []string, stdin io.Reader, stdout, stderr io.Writer) error

func commands() map[string]command {
	return map[string]command{
		"serve":       cmdServe,
		"token":       cmdToken,
		"config":      cmdConfig,
		"centre":      cmdCentre,
		"user":        cmdUser,
		"verify":      cmdVerify,
		"signing-key": cmdSigningKey,
		"export":      cmdExport,
		"version": func(_ []string, _ io.Reader, out, _ io.Writer) error {
			_, err := fmt.Fprintln(out, "yizhan", version)
			return err
		},
	}
}
