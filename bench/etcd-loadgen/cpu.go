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

// sampleCPU reads the pids' CPU time at steady and at end and sends the
// difference in seconds; the channel is closed without a value when there
// are no pids or a pid could not be read (it exited, or is not ours).
func sampleCPU(pids []int, steady, end time.Time) <-chan float64 {
	out := make(chan float64, 1)
	if len(pids) == 0 {
		close(out)
		return out
	}
	go func() {
		defer close(out)
		time.Sleep(time.Until(steady))
		before, err := cpuTicks(pids)
		if err != nil {
			fmt.Fprintf(os.Stderr, "etcd-loadgen: no CPU figure: %v\n", err)
			return
		}
		time.Sleep(time.Until(end))
		after, err := cpuTicks(pids)
		if err != nil {
			fmt.Fprintf(os.Stderr, "etcd-loadgen: no CPU figure: %v\n", err)
			return
		}
		out <- float64(after-before) / userHz
	}()
	return out
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
