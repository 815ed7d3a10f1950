// etcd-loadgen drives etcd with its native gRPC client (clientv3), closed
// loop: every client goroutine sends its next request when the previous one
// is answered. It finds the leader with the maintenance Status API and sends
// everything to it only, so no request pays a follower's forwarding hop.
// Numbers cover the steady window only (after -warmup); one JSON object goes
// to stdout. Built offline in GOPATH mode by build.sh (see bench/README.md).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type config struct {
	endpoints  []string
	allMembers bool
	clients    int
	conns      int
	duration   time.Duration
	warmup     time.Duration
	timeout    time.Duration
	keys       int
	keySize    int
	valueSize  int
	getShare   float64 // fraction of ops that are linearizable gets
	prefill    bool
	cpuPids    []int
}

type result struct {
	Op         string   `json:"op"`
	Endpoints  []string `json:"endpoints"`
	LeaderOnly bool     `json:"leader_only"`
	Clients    int      `json:"clients"`
	Conns      int      `json:"conns"`
	Keys       int      `json:"keys"`
	KeySize    int      `json:"key_size"`
	ValueSize  int      `json:"value_size"`
	WindowS    float64  `json:"window_s"`
	Ops        int      `json:"ops"`
	Puts       int      `json:"puts"`
	Gets       int      `json:"gets"`
	Errors     int      `json:"errors"`
	FirstError string   `json:"first_error,omitempty"`
	OpsPerS    float64  `json:"ops_per_s"`
	P50Ms      float64  `json:"p50_ms"`
	P99Ms      float64  `json:"p99_ms"`
	MaxMs      float64  `json:"max_ms"`
	CPUPids    []int    `json:"cpu_pids,omitempty"`
	CPUSeconds *float64 `json:"cpu_s,omitempty"`
	CPUUsPerOp *float64 `json:"cpu_us_per_op,omitempty"`
	// The load generator's own CPU per op: the client side's cost.
	ClientCPUUsPerOp float64 `json:"client_cpu_us_per_op"`
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd-loadgen: %v\nRun with -h for usage.\n", err)
		os.Exit(2)
	}
	res, err := run(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd-loadgen: %v\n", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("etcd-loadgen", flag.ContinueOnError)
	endpoints := fs.String("endpoints", "", "comma-separated client URLs of the cluster's members (required)")
	fs.BoolVar(&cfg.allMembers, "all-members", false, "spread requests over all endpoints instead of sending to the leader only")
	fs.IntVar(&cfg.clients, "clients", 32, "concurrent closed-loop clients (goroutines)")
	fs.IntVar(&cfg.conns, "conns", 1, "gRPC connections the clients share round-robin (1 measured fastest here; see README)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "total run time, warm-up included")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "first part of the run left out of every number")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "per-request timeout; a timed-out request counts as an error")
	fs.IntVar(&cfg.keys, "keys", 1000, "distinct keys, chosen uniformly at random")
	fs.IntVar(&cfg.keySize, "key-size", 16, "key length in bytes: \"key:\" and a zero-padded index")
	fs.IntVar(&cfg.valueSize, "value-size", 16, "value length in bytes")
	mix := fs.String("mix", "put=1", "op mix as put=W,get=W (get is linearizable)")
	fs.BoolVar(&cfg.prefill, "prefill", false, "write every key once before the run, so gets find a value")
	pids := fs.String("cpu-pids", "", "comma-separated server pids whose utime+stime over the steady window is reported per op")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, e := range strings.Split(*endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			cfg.endpoints = append(cfg.endpoints, e)
		}
	}
	var err error
	if cfg.getShare, err = parseMix(*mix); err != nil {
		return cfg, err
	}
	if cfg.cpuPids, err = parseInts(*pids); err != nil {
		return cfg, fmt.Errorf("-cpu-pids: %v", err)
	}
	return cfg, validate(cfg)
}

func validate(cfg config) error {
	switch {
	case len(cfg.endpoints) == 0:
		return errors.New("-endpoints is required")
	case cfg.clients < 1 || cfg.conns < 1:
		return errors.New("-clients and -conns must be at least 1")
	case cfg.warmup < 0 || cfg.duration <= cfg.warmup:
		return errors.New("-duration must be longer than -warmup")
	case cfg.keys < 1:
		return errors.New("-keys must be at least 1")
	case cfg.valueSize < 0:
		return errors.New("-value-size must not be negative")
	case cfg.keySize-4 < len(strconv.Itoa(cfg.keys-1)):
		return fmt.Errorf("-key-size %d cannot hold \"key:\" and %d digits", cfg.keySize, len(strconv.Itoa(cfg.keys-1)))
	}
	return nil
}

// parseMix returns the share of gets in a mix such as "put=1,get=3".
func parseMix(s string) (float64, error) {
	weights := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		kv := strings.SplitN(part, "=", 2)
		if len(kv) != 2 || (kv[0] != "put" && kv[0] != "get") {
			return 0, fmt.Errorf("-mix: %q is not put=W or get=W", part)
		}
		w, err := strconv.ParseFloat(kv[1], 64)
		if err != nil || w < 0 {
			return 0, fmt.Errorf("-mix: bad weight in %q", part)
		}
		weights[kv[0]] += w
	}
	total := weights["put"] + weights["get"]
	if total <= 0 {
		return 0, errors.New("-mix: weights add up to 0")
	}
	return weights["get"] / total, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a pid", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (c config) key(i int) string { return fmt.Sprintf("key:%0*d", c.keySize-4, i) }

func (c config) opName() string {
	switch c.getShare {
	case 0:
		return "put"
	case 1:
		return "get"
	}
	return fmt.Sprintf("mix(get=%.2f)", c.getShare)
}

func run(cfg config) (*result, error) {
	targets := cfg.endpoints
	if !cfg.allMembers {
		leader, err := findLeader(cfg.endpoints)
		if err != nil {
			return nil, err
		}
		targets = []string{leader}
	}
	conns, err := dial(targets, cfg.conns)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	value := strings.Repeat("v", cfg.valueSize)
	if cfg.prefill {
		if err := prefill(conns[0], cfg, value); err != nil {
			return nil, err
		}
	}
	res := &result{Op: cfg.opName(), Endpoints: targets, LeaderOnly: !cfg.allMembers,
		Clients: cfg.clients, Conns: cfg.conns, Keys: cfg.keys, KeySize: cfg.keySize,
		ValueSize: cfg.valueSize, CPUPids: cfg.cpuPids}
	drive(conns, cfg, value, res)
	return res, nil
}

// findLeader asks every endpoint for its status and returns the one whose
// member id is the leader the cluster agrees on.
func findLeader(endpoints []string) (string, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		return "", fmt.Errorf("connecting to %v: %v", endpoints, err)
	}
	defer cli.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, ep := range endpoints {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := cli.Status(ctx, ep)
			cancel()
			if err == nil && st.Leader != 0 && st.Leader == st.Header.MemberId {
				return ep, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no endpoint of %v reports itself leader", endpoints)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dial(targets []string, n int) ([]*clientv3.Client, error) {
	conns := make([]*clientv3.Client, 0, n)
	for i := 0; i < n; i++ {
		c, err := clientv3.New(clientv3.Config{Endpoints: targets, DialTimeout: 5 * time.Second})
		if err != nil {
			for _, d := range conns {
				d.Close()
			}
			return nil, fmt.Errorf("connecting to %v: %v", targets, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func prefill(cli *clientv3.Client, cfg config, value string) error {
	for i := 0; i < cfg.keys; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		_, err := cli.Put(ctx, cfg.key(i), value)
		cancel()
		if err != nil {
			return fmt.Errorf("prefill of %s: %v", cfg.key(i), err)
		}
	}
	return nil
}

// worker is one closed-loop client's tally of the steady window.
type worker struct {
	latencies  []time.Duration
	puts, gets int
	errors     int
	firstError error
}

func drive(conns []*clientv3.Client, cfg config, value string, res *result) {
	start := time.Now()
	steady, end := start.Add(cfg.warmup), start.Add(cfg.duration)
	cpu := sampleCPU(cfg.cpuPids, steady, end)
	workers := make([]worker, cfg.clients)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			loop(conns[i%len(conns)], cfg, value, steady, end, &workers[i], int64(i))
		}(i)
	}
	wg.Wait()
	res.WindowS = end.Sub(steady).Seconds()
	var all []time.Duration
	for i := range workers {
		w := &workers[i]
		all = append(all, w.latencies...)
		res.Puts += w.puts
		res.Gets += w.gets
		res.Errors += w.errors
		if w.firstError != nil && res.FirstError == "" {
			res.FirstError = w.firstError.Error()
		}
	}
	res.Ops = len(all)
	res.OpsPerS = float64(res.Ops) / res.WindowS
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	res.P50Ms, res.P99Ms = quantileMs(all, 0.50), quantileMs(all, 0.99)
	if len(all) > 0 {
		res.MaxMs = ms(all[len(all)-1])
	}
	w := <-cpu
	if res.Ops > 0 {
		res.ClientCPUUsPerOp = w.self * 1e6 / float64(res.Ops)
	}
	if w.servers >= 0 {
		res.CPUSeconds = &w.servers
		if res.Ops > 0 {
			us := w.servers * 1e6 / float64(res.Ops)
			res.CPUUsPerOp = &us
		}
	}
}

// loop sends requests until end; only those started after steady and
// answered before end are counted.
func loop(cli *clientv3.Client, cfg config, value string, steady, end time.Time, w *worker, seed int64) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano() + seed))
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		key := cfg.key(rng.Intn(cfg.keys))
		isGet := cfg.getShare > 0 && rng.Float64() < cfg.getShare
		ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		var err error
		if isGet {
			_, err = cli.Get(ctx, key) // linearizable: clientv3's default
		} else {
			_, err = cli.Put(ctx, key, value)
		}
		cancel()
		t1 := time.Now()
		if t0.Before(steady) || t1.After(end) {
			continue
		}
		switch {
		case err != nil:
			w.errors++
			if w.firstError == nil {
				w.firstError = err
			}
		case isGet:
			w.gets++
			w.latencies = append(w.latencies, t1.Sub(t0))
		default:
			w.puts++
			w.latencies = append(w.latencies, t1.Sub(t0))
		}
	}
}

func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return ms(sorted[i])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
