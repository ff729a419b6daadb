package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// endChildren ends every process this one started, and theirs: an exec credential plugin
// client-go still waits for (it runs plugins without a context, so a hung one outlives the
// request), with what it started. SIGTERM first, SIGKILL for what is left after a moment.
// Requests queued behind a plugin run it again as soon as it ends, so once it found any it
// looks again until it finds none twice in a row (for a few seconds at most).
func endChildren() {
	tree := descendants(os.Getpid())
	if len(tree) == 0 {
		return
	}
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < 2 && time.Now().Before(deadline); {
		if len(tree) == 0 {
			quiet++
		} else {
			quiet = 0
			terminate(tree)
		}
		time.Sleep(50 * time.Millisecond)
		tree = descendants(os.Getpid())
	}
}

// terminate sends SIGTERM to pids, and SIGKILL to those still running after a moment.
func terminate(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if !anyAlive(pids) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// descendants lists the processes under pid, parents before their children: from each
// process's /proc/PID/task/TID/children (quick: this process's threads, then its few
// children), else from every process's parent in /proc/PID/stat.
func descendants(pid int) []int {
	childrenOf := directChildren
	if _, ok := directChildren(pid); !ok {
		childrenOf = scanParents()
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		children, _ := childrenOf(p)
		out = append(out, children...)
		queue = append(queue, children...)
	}
	return out
}

// directChildren reads pid's children from its threads' children files, where the kernel
// has them (CONFIG_PROC_CHILDREN); ok is false where it has not.
func directChildren(pid int) (children []int, ok bool) {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		ok = true
		for _, field := range strings.Fields(string(data)) {
			if child, err := strconv.Atoi(field); err == nil {
				children = append(children, child)
			}
		}
	}
	return children, ok
}

// scanParents reads every process's parent from /proc/PID/stat, once.
func scanParents() func(int) ([]int, bool) {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(data)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 {
			continue
		}
		child, err1 := strconv.Atoi(strings.Fields(s)[0])
		parent, err2 := strconv.Atoi(fields[1])
		if err1 == nil && err2 == nil {
			children[parent] = append(children[parent], child)
		}
	}
	return func(pid int) ([]int, bool) { return children[pid], true }
}

// anyAlive says whether any of pids still runs (a zombie counts as ended).
func anyAlive(pids []int) bool {
	for _, pid := range pids {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		if end := strings.LastIndexByte(s, ')'); end >= 0 {
			if fields := strings.Fields(s[end+1:]); len(fields) > 0 && fields[0] != "Z" {
				return true
			}
		}
	}
	return false
}
