package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleRoot is the repository's top folder, where go.mod is, found from
// the folder bench runs in.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the Peerster module; run bench from the repository")
	}
	return filepath.Dir(gomod), nil
}

// build compiles the package pkg (a path relative to root, such as "." or
// "./bench/internal/minimal") with a plain "go build", as graders do, into
// dir/name. It returns the binary's path.
func build(root, pkg, dir, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, stderr.Bytes())
	}
	return out, nil
}

// fileSize is the size of path in bytes, or -1.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// megabytes writes n bytes in MB (10^6 bytes), as ls -l readers expect.
func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// gossiperBinary returns the gossiper to run: path if given, else one
// built from the repository. dir is a temporary folder for it and for the
// nodes' stderr files, removed by cleanup.
func gossiperBinary(path string) (bin, dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", "peerster-bench-")
	if err != nil {
		return "", "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if path != "" {
		return path, dir, cleanup, nil
	}
	root, err := moduleRoot()
	if err == nil {
		bin, err = build(root, ".", dir, "Peerster")
	}
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	return bin, dir, cleanup, nil
}
