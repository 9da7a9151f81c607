package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/cluster"
	"github.com/wshost/wshost/host/plugin"
)

const pushUsage = `Usage: wshost plugin push [flags] NAME FILE.wasm

Stores FILE.wasm (with its manifest) in the cluster as plugin NAME; every
node checks and loads it, and this command prints each node's answer. When
a node refuses it, the cluster goes back to the previous version (unless
--keep-on-refusal) and the exit status is 1. A NAME.wasm in a node's
plugins directory overrides what is pushed, on that node only.`

// runPlugin is `wshost plugin push ...`.
func runPlugin(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "push" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(stdout, pushUsage)
			return flag.ErrHelp
		}
		return usageErr(errors.New("plugin takes a command: push"))
	}
	fs := flag.NewFlagSet("wshost plugin push", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	natsURL := fs.String("nats", os.Getenv("WSHOST_CLUSTER_NATS"), "the cluster's NATS `URL` (default $WSHOST_CLUSTER_NATS)")
	name := fs.String("cluster-name", envOr("WSHOST_CLUSTER_NAME", "wshost"), "the cluster's `NAME`")
	manifestPath := fs.String("manifest", "", "the plugin's manifest `NAME.toml` (default: FILE's own NAME.toml beside it, if any)")
	timeout := fs.Duration("timeout", time.Minute, "wait up to `DURATION` for every node's answer")
	keep := fs.Bool("keep-on-refusal", false, "keep the new version set even when a node refuses it")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, pushUsage+"\n\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usageErr(err)
	}
	if fs.NArg() != 2 {
		return usageErr(errors.New("plugin push takes NAME and FILE.wasm"))
	}
	plug, file := fs.Arg(0), fs.Arg(1)
	if !host.ValidName(plug) {
		return usageErr(fmt.Errorf("plugin name %q: want [a-z0-9][a-z0-9_-]*", plug))
	}
	if *natsURL == "" {
		return usageErr(errors.New("--nats URL (or WSHOST_CLUSTER_NATS) is required"))
	}
	wasm, err := os.ReadFile(file)
	if err != nil {
		return usageErr(err)
	}
	manifest, m, err := readManifestBytes(*manifestPath, file)
	if err != nil {
		return err
	}
	// Refuse here what every node would refuse.
	if r := plugin.Inspect(ctx, wasm, m); !r.OK() {
		printReport(stdout, file, r)
		return fmt.Errorf("%s: %d problem(s), not pushed: %w", file, len(r.Problems), errProblems)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	opts := cluster.Options{URL: *natsURL, Name: *name, Logger: slog.New(slog.DiscardHandler)}
	res, err := cluster.Push(ctx, opts, plug, wasm, manifest, cluster.PushOptions{KeepOnRefusal: *keep})
	fmt.Fprintf(stdout, "pushed %s %s (%d bytes)\n", plug, res.Digest[:min(12, len(res.Digest))], len(wasm))
	for _, rep := range res.Reports {
		line := fmt.Sprintf("  node %d: %s", rep.Node, rep.Status)
		if rep.Error != "" {
			line += ": " + rep.Error
		}
		fmt.Fprintln(stdout, line)
	}
	for _, id := range res.Silent {
		fmt.Fprintf(stdout, "  node %d: no answer within %s\n", id, *timeout)
	}
	if res.RolledBack != "" {
		fmt.Fprintf(stdout, "refused: the cluster went back to %s\n", res.RolledBack[:12])
	}
	if err != nil {
		if errors.Is(err, cluster.ErrRefused) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("push %s: %w: %w", plug, err, errProblems)
		}
		return fmt.Errorf("push %s: %w", plug, err)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
