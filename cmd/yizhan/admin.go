package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"yizhan/mediation"
	"yizhan/store"
)

// Administration on the data directory, with the server stopped or running (SQLite
// in WAL mode takes a writer while the server reads):
//
//	yizhan centre add --data DIR --code C --name N --tier city|township|village [--parent P]
//	yizhan user add --data DIR --username U --name N --centre C --role R[,R...] [--gold] --password-stdin

func cmdCentre(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New(`usage: yizhan centre add --data DIR --code C --name N --tier city|township|village [--parent P]`)
	}
	fs := flag.NewFlagSet("centre add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("YIZHAN_DATA", "./data"), "data directory (env YIZHAN_DATA)")
	var c store.Centre
	fs.StringVar(&c.Code, "code", "", "centre code, e.g. east-taoyuan")
	fs.StringVar(&c.Name, "name", "", "centre name, e.g. 桃园村综治中心")
	fs.StringVar(&c.Tier, "tier", "", "city, township or village")
	fs.StringVar(&c.Parent, "parent", "", "code of the centre one tier up (none for the city)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return withStore(*data, func(ctx context.Context, st store.Store) error {
		if err := mediation.AddCentre(ctx, st, c); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "centre %s (%s, %s) added\n", c.Code, c.Name, c.Tier)
		return err
	})
}

func cmdUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New(`usage: yizhan user add --data DIR --username U --name N --centre C --role R[,R...] [--gold] --password-stdin`)
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("YIZHAN_DATA", "./data"), "data directory (env YIZHAN_DATA)")
	var u mediation.UserSpec
	fs.StringVar(&u.Username, "username", "", "login name")
	fs.StringVar(&u.Name, "name", "", "display name")
	fs.StringVar(&u.Centre, "centre", "", "code of the staff member's centre")
	roles := fs.String("role", "", "roles, comma separated: "+strings.Join(store.Roles, ", "))
	fs.BoolVar(&u.Gold, "gold", false, "a gold-medal mediator")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !*pwStdin {
		// A password on the command line ends up in shell history and ps output.
		return errors.New("--password-stdin is required: give the password on standard input")
	}
	for _, r := range strings.Split(*roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			u.Roles = append(u.Roles, r)
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	return withStore(*data, func(ctx context.Context, st store.Store) error {
		if err := mediation.AddUser(ctx, st, u, password); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "user %s (%s) added to %s as %s\n", u.Username, u.Name, u.Centre, strings.Join(u.Roles, ","))
		return err
	})
}

// withStore opens the database in dir for one administrative change.
func withStore(dir string, fn func(context.Context, store.Store) error) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(dir, dbFile), nil)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	return fn(ctx, st)
}
