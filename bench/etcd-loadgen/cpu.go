package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Linux reports utime and stime in /proc/<pid>/stat in USER_HZ ticks, which
// is 100 on every architecture the kernel exports to user space.
const userHz = 100

// cpuWindow is CPU seconds used in the steady window: by the given server
// pids (negative when there are none, or one could not be read) and by this
// load generator itself.
type cpuWindow struct{ servers, self float64 }

// sampleCPU reads CPU times at steady and at end and sends the differences.
func sampleCPU(pids []int, steady, end time.Time) <-chan cpuWindow {
	out := make(chan cpuWindow, 1)
	self := []int{os.Getpid()}
	go func() {
		time.Sleep(time.Until(steady))
		serversBefore, errBefore := cpuTicks(pids)
		selfBefore, _ := cpuTicks(self)
		time.Sleep(time.Until(end))
		serversAfter, errAfter := cpuTicks(pids)
		selfAfter, _ := cpuTicks(self)
		w := cpuWindow{servers: -1, self: float64(selfAfter-selfBefore) / userHz}
		if err := firstErr(errBefore, errAfter); err != nil {
			fmt.Fprintf(os.Stderr, "etcd-loadgen: no server CPU figure: %v\n", err)
		} else if len(pids) > 0 {
			w.servers = float64(serversAfter-serversBefore) / userHz
		}
		out <- w
	}()
	return out
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// cpuTicks sums utime+stime (fields 14 and 15) of the pids.
func cpuTicks(pids []int) (int64, error) {
	var sum int64
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		// The command name (field 2) may hold spaces: count from its ')'.
		s := string(raw)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
		}
		for _, f := range fields[11:13] { // fields 14 and 15 overall
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
			}
			sum += n
		}
	}
	return sum, nil
}
