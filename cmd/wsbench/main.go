// Command wsbench is a WebSocket load generator for servers on 127.0.0.0/8:
// echo, fanout, idle and reload scenarios; see internal/bench and
// `go run ./cmd/wsbench -h`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wshost/wshost/internal/bench"
)

func main() {
	cfg, err := bench.ParseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := bench.Run(ctx, cfg, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
	if cfg.JSON {
		err = bench.WriteJSON(os.Stdout, res)
	} else {
		err = bench.WriteTable(os.Stdout, res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}
