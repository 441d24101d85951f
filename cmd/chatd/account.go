package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/impl/passwd"
)

// runAccount is "chatd account": the operator's tools for the accounts of
// a database that no chatd holds. It returns the exit status: 2 for bad
// usage, 1 if the work failed.
//
//	chatd account reset-password -db FILE NAME   (the password on stdin, one line)
//	chatd account delete -db FILE NAME
func runAccount(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: chatd account reset-password -db FILE NAME   (reads the new password from standard input)")
		fmt.Fprintln(stderr, "       chatd account delete -db FILE NAME")
	}
	if len(args) == 0 || args[0] != "reset-password" && args[0] != "delete" {
		usage()
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("chatd account "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usage
	db := fs.String("db", "", "the database `file`")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *db == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "chatd account: need -db FILE and one NAME")
		usage()
		return 2
	}
	name := fs.Arg(0)
	var err error
	switch verb {
	case "reset-password":
		var password string
		if password, err = readPassword(stdin); err == nil {
			err = impl.ResetPassword(*db, name, password, passwd.Default)
		}
	case "delete":
		err = impl.DeleteAccount(*db, name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatd account %s: %v\n", verb, err)
		return 1
	}
	switch verb {
	case "reset-password":
		fmt.Fprintf(stdout, "password of %s changed\n", name)
	case "delete":
		fmt.Fprintf(stdout, "account %s deleted\n", name)
	}
	return 0
}

// readPassword reads one line from r, without its terminator.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", fmt.Errorf("reading the new password from standard input: %v", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}
