package promexpo

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GoCollector gives the go_* metrics the Prometheus client's default Go
// collector gives: goroutines, threads, GC pauses, build information, the
// memory statistics (go_memstats_*, from runtime/metrics) and the GOGC,
// GOMEMLIMIT and GOMAXPROCS settings.
func GoCollector() Collector {
	return CollectorFunc(collectGo)
}

// The runtime/metrics names read for go_memstats_*.
const (
	rmTinyAllocs     = "/gc/heap/tiny/allocs:objects"
	rmAllocsObjects  = "/gc/heap/allocs:objects"
	rmFreesObjects   = "/gc/heap/frees:objects"
	rmAllocsBytes    = "/gc/heap/allocs:bytes"
	rmHeapObjects    = "/gc/heap/objects:objects"
	rmHeapGoal       = "/gc/heap/goal:bytes"
	rmTotal          = "/memory/classes/total:bytes"
	rmHeapObjBytes   = "/memory/classes/heap/objects:bytes"
	rmHeapUnused     = "/memory/classes/heap/unused:bytes"
	rmHeapReleased   = "/memory/classes/heap/released:bytes"
	rmHeapFree       = "/memory/classes/heap/free:bytes"
	rmHeapStacks     = "/memory/classes/heap/stacks:bytes"
	rmOSStacks       = "/memory/classes/os-stacks:bytes"
	rmMSpanInuse     = "/memory/classes/metadata/mspan/inuse:bytes"
	rmMSpanFree      = "/memory/classes/metadata/mspan/free:bytes"
	rmMCacheInuse    = "/memory/classes/metadata/mcache/inuse:bytes"
	rmMCacheFree     = "/memory/classes/metadata/mcache/free:bytes"
	rmProfBuckets    = "/memory/classes/profiling/buckets:bytes"
	rmMetadataOther  = "/memory/classes/metadata/other:bytes"
	rmOther          = "/memory/classes/other:bytes"
	rmGOGC           = "/gc/gogc:percent"
	rmGOMEMLIMIT     = "/gc/gomemlimit:bytes"
	rmGOMAXPROCS     = "/sched/gomaxprocs:threads"
	helpSourcedFrom  = " Sourced from "
	memstatsPrefix   = "go_memstats_"
	helpGoroutines   = "Number of goroutines that currently exist."
	helpThreads      = "Number of OS threads created."
	helpGCDuration   = "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."
	helpGoInfo       = "Information about the Go environment."
	helpLastGC       = "Number of seconds since 1970 of last garbage collection."
	goSettingsPrefix = "go_"
)

var (
	rmMu      sync.Mutex
	rmSamples []metrics.Sample
	rmIndex   map[string]int
	rmHelp    map[string]string // runtime/metrics descriptions of the settings
)

// readRuntimeMetrics reads every runtime/metrics value the collector needs.
// The caller holds rmMu.
func readRuntimeMetrics() {
	if rmSamples == nil {
		names := []string{rmTinyAllocs, rmAllocsObjects, rmFreesObjects, rmAllocsBytes, rmHeapObjects, rmHeapGoal,
			rmTotal, rmHeapObjBytes, rmHeapUnused, rmHeapReleased, rmHeapFree, rmHeapStacks, rmOSStacks,
			rmMSpanInuse, rmMSpanFree, rmMCacheInuse, rmMCacheFree, rmProfBuckets, rmMetadataOther, rmOther,
			rmGOGC, rmGOMEMLIMIT, rmGOMAXPROCS}
		rmIndex = make(map[string]int, len(names))
		for i, n := range names {
			rmSamples = append(rmSamples, metrics.Sample{Name: n})
			rmIndex[n] = i
		}
		rmHelp = map[string]string{}
		for _, d := range metrics.All() {
			switch d.Name {
			case rmGOGC, rmGOMEMLIMIT, rmGOMAXPROCS:
				rmHelp[d.Name] = d.Description
			}
		}
	}
	metrics.Read(rmSamples)
}

// rm returns a runtime/metrics value as a float64 (0 if this Go does not
// know the metric).
func rm(name string) float64 {
	v := rmSamples[rmIndex[name]].Value
	switch v.Kind() {
	case metrics.KindUint64:
		return float64(v.Uint64())
	case metrics.KindFloat64:
		return v.Float64()
	}
	return 0
}

func gauge(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: Gauge, Metrics: []Metric{{Value: v}}}
}

func counter(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: Counter, Metrics: []Metric{{Value: v}}}
}

func collectGo() []Family {
	fams := []Family{gauge("go_goroutines", helpGoroutines, float64(runtime.NumGoroutine()))}
	threads, _ := runtime.ThreadCreateProfile(nil)
	fams = append(fams, gauge("go_threads", helpThreads, float64(threads)))

	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	qs := make([]Quantile, 5)
	for i, p := range gc.PauseQuantiles {
		qs[i] = Quantile{Quantile: float64(i) / 4, Value: p.Seconds()}
	}
	fams = append(fams,
		Family{Name: "go_gc_duration_seconds", Help: helpGCDuration, Type: Summary,
			Metrics: []Metric{{Quantiles: qs, Count: uint64(gc.NumGC), Sum: gc.PauseTotal.Seconds()}}},
		gauge(memstatsPrefix+"last_gc_time_seconds", helpLastGC, float64(gc.LastGC.UnixNano())/1e9),
		Family{Name: "go_info", Help: helpGoInfo, Type: Gauge,
			Metrics: []Metric{{Labels: []Label{{"version", runtime.Version()}}, Value: 1}}})

	rmMu.Lock()
	defer rmMu.Unlock()
	readRuntimeMetrics()
	for _, s := range []struct{ name, rm string }{
		{"go_gc_gogc_percent", rmGOGC},
		{"go_gc_gomemlimit_bytes", rmGOMEMLIMIT},
		{"go_sched_gomaxprocs_threads", rmGOMAXPROCS},
	} {
		fams = append(fams, gauge(s.name, rmHelp[s.rm]+helpSourcedFrom+s.rm+".", rm(s.rm)))
	}

	tiny := rm(rmTinyAllocs)
	heapAlloc := rm(rmHeapObjBytes)
	heapInuse := heapAlloc + rm(rmHeapUnused)
	heapIdle := rm(rmHeapReleased) + rm(rmHeapFree)
	stackInuse := rm(rmHeapStacks)
	mspanInuse, mcacheInuse := rm(rmMSpanInuse), rm(rmMCacheInuse)
	for _, m := range []struct {
		name, help string
		counter    bool
		v          float64
	}{
		{"alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", false, heapAlloc},
		{"alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", true, rm(rmAllocsBytes)},
		{"buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", false, rm(rmProfBuckets)},
		{"frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", true, rm(rmFreesObjects) + tiny},
		{"gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", false, rm(rmMetadataOther)},
		{"heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", false, heapAlloc},
		{"heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", false, heapIdle},
		{"heap_inuse_bytes", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", false, heapInuse},
		{"heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", false, rm(rmHeapObjects)},
		{"heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", false, rm(rmHeapReleased)},
		{"heap_sys_bytes", "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", false, heapInuse + heapIdle},
		{"mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", true, rm(rmAllocsObjects) + tiny},
		{"mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", false, mcacheInuse},
		{"mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", false, mcacheInuse + rm(rmMCacheFree)},
		{"mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", false, mspanInuse},
		{"mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", false, mspanInuse + rm(rmMSpanFree)},
		{"next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", false, rm(rmHeapGoal)},
		{"other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", false, rm(rmOther)},
		{"stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", false, stackInuse},
		{"stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", false, stackInuse + rm(rmOSStacks)},
		{"sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", false, rm(rmTotal)},
	} {
		if m.counter {
			fams = append(fams, counter(memstatsPrefix+m.name, m.help, m.v))
		} else {
			fams = append(fams, gauge(memstatsPrefix+m.name, m.help, m.v))
		}
	}
	return fams
}

// ProcessCollector gives the process_* metrics the Prometheus client's
// process collector gives on Linux, read from /proc/self: CPU time, memory,
// start time, file descriptors and their limit, address-space limit, and
// the network bytes of the process's network namespace. A file that cannot
// be read leaves its metrics out.
func ProcessCollector() Collector {
	return CollectorFunc(collectProcess)
}

// userHZ is the kernel's USER_HZ, the unit of the times in /proc (100 on
// every Linux architecture Go supports).
const userHZ = 100

func collectProcess() []Family {
	var fams []Family
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		// Fields after the command (in parentheses, which may hold spaces).
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			f := strings.Fields(string(b[i+1:]))
			// f[0] is field 3 (state): utime is field 14, stime 15,
			// starttime 22, vsize 23, rss 24.
			field := func(n int) float64 {
				if n-3 >= len(f) {
					return 0
				}
				v, _ := strconv.ParseUint(f[n-3], 10, 64)
				return float64(v)
			}
			fams = append(fams,
				counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (field(14)+field(15))/userHZ),
				gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", field(23)),
				gauge("process_resident_memory_bytes", "Resident memory size in bytes.", field(24)*float64(os.Getpagesize())))
			if bt, ok := bootTime(); ok {
				fams = append(fams, gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", bt+field(22)/userHZ))
			}
		}
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fams = append(fams, gauge("process_open_fds", "Number of open file descriptors.", float64(len(ents))))
	}
	if b, err := os.ReadFile("/proc/self/limits"); err == nil {
		fams = append(fams,
			gauge("process_max_fds", "Maximum number of open file descriptors.", softLimit(string(b), "Max open files")),
			gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", softLimit(string(b), "Max address space")))
	}
	if b, err := os.ReadFile("/proc/self/net/netstat"); err == nil {
		in, out := ipExtOctets(string(b))
		fams = append(fams,
			counter("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", in),
			counter("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", out))
	}
	return fams
}

// bootTime returns btime of /proc/stat, the boot time in seconds since the
// epoch.
func bootTime() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return float64(n), err == nil
		}
	}
	return 0, false
}

// softLimit returns the soft limit of one line of /proc/PID/limits, with
// "unlimited" as the largest uint64.
func softLimit(limits, name string) float64 {
	for line := range strings.SplitSeq(limits, "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			if f[0] == "unlimited" {
				return float64(^uint64(0))
			}
			v, _ := strconv.ParseUint(f[0], 10, 64)
			return float64(v)
		}
	}
	return 0
}

// ipExtOctets returns InOctets and OutOctets of the IpExt lines of
// /proc/PID/net/netstat (a header line of names, then a line of values).
func ipExtOctets(netstat string) (in, out float64) {
	var names []string
	for line := range strings.SplitSeq(netstat, "\n") {
		rest, ok := strings.CutPrefix(line, "IpExt:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if i >= len(f) {
				break
			}
			v, _ := strconv.ParseFloat(f[i], 64)
			switch n {
			case "InOctets":
				in = v
			case "OutOctets":
				out = v
			}
		}
		return in, out
	}
	return in, out
}
