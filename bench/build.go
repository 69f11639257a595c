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
