package files

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// pattern returns n bytes that differ from chunk to chunk, so that a chunk
// written at the wrong place shows.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251) + seed
	}
	return b
}

func TestSplitSizes(t *testing.T) {
	tests := []struct {
		size       int
		chunks     int
		lastLen    int
		wantErrSub string
	}{
		{size: 0, wantErrSub: "empty"},
		{size: 1, chunks: 1, lastLen: 1},
		{size: ChunkSize - 1, chunks: 1, lastLen: ChunkSize - 1},
		{size: ChunkSize, chunks: 1, lastLen: ChunkSize},
		{size: ChunkSize + 1, chunks: 2, lastLen: 1},
		{size: MaxFileSize, chunks: MaxChunks, lastLen: ChunkSize},
		{size: MaxFileSize + 1, wantErrSub: "is 2097153 bytes, more than the 2 MiB a shared file may be"},
	}
	for _, tt := range tests {
		data := pattern(tt.size, 7)
		metafile, chunks, err := Split(data)
		if tt.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
				t.Errorf("Split(%d bytes) error = %v, want one containing %q", tt.size, err, tt.wantErrSub)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Split(%d bytes): %v", tt.size, err)
		}
		if len(chunks) != tt.chunks || len(chunks[len(chunks)-1]) != tt.lastLen {
			t.Fatalf("Split(%d bytes): %d chunks, last %d bytes; want %d, last %d", tt.size, len(chunks), len(chunks[len(chunks)-1]), tt.chunks, tt.lastLen)
		}
		// Computed apart from the package: each 8 KiB slice hashed on its own.
		var want []byte
		for off := 0; off < len(data); off += ChunkSize {
			sum := sha256.Sum256(data[off:min(off+ChunkSize, len(data))])
			want = append(want, sum[:]...)
		}
		if !bytes.Equal(metafile, want) {
			t.Fatalf("Split(%d bytes): metafile differs from the SHA-256 of each chunk", tt.size)
		}
		if !bytes.Equal(bytes.Join(chunks, nil), data) {
			t.Fatalf("Split(%d bytes): chunks do not join back into the data", tt.size)
		}
		hashes, err := ChunkHashes(metafile)
		if err != nil || len(hashes) != tt.chunks {
			t.Fatalf("ChunkHashes of Split(%d bytes) = %d hashes, %v", tt.size, len(hashes), err)
		}
		for i, c := range chunks {
			if hashes[i] != sha256.Sum256(c) {
				t.Fatalf("Split(%d bytes): hash %d is not that of chunk %d", tt.size, i, i)
			}
		}
	}
}

func TestSplitChunksDoNotAlias(t *testing.T) {
	data := pattern(ChunkSize+10, 0)
	_, chunks, err := Split(data)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(chunks[0], 0xff)
	if data[ChunkSize] != pattern(ChunkSize+10, 0)[ChunkSize] {
		t.Fatal("appending to chunk 0 wrote over chunk 1")
	}
}

// TestGolden pins the metahash of a 3-chunk file against values computed
// outside Go (Python's hashlib), so that Split and the metahash agree with
// other implementations, not merely with themselves.
func TestGolden(t *testing.T) {
	data := make([]byte, 2*ChunkSize+1000)
	for i := range data {
		data[i] = byte(i % 251)
	}
	metafile, chunks, err := Split(data)
	if err != nil {
		t.Fatal(err)
	}
	wantChunks := []string{
		"25df2449b2e5a35fea14e02a7158e283801a1069c9f84631b9a9dacb2f809a7f",
		"39d9010552911947a74e3269e6fbfad2b758ad623d18b778145b1b16b442ef08",
		"799ce50e4bd153df47ee3be4b27d13bda5ae938306089334af83585915c4c23e",
	}
	if len(chunks) != 3 {
		t.Fatalf("%d chunks, want 3", len(chunks))
	}
	for i, w := range wantChunks {
		if got := hex.EncodeToString(metafile[i*HashSize : (i+1)*HashSize]); got != w {
			t.Errorf("chunk %d hash = %s, want %s", i, got, w)
		}
	}
	const wantMeta = "cc30d8c7d762a8bc5cff67f40f2f1d7018492a071b7c1dbaac33c91616b0fdba"
	if got := HashOf(metafile).String(); got != wantMeta {
		t.Errorf("metahash = %s, want %s", got, wantMeta)
	}
}

func TestChunkHashes(t *testing.T) {
	tests := []struct {
		size       int
		wantErrSub string
	}{
		{0, "empty"},
		{31, "not a whole number"},
		{33, "not a whole number"},
		{HashSize, ""},
		{MaxChunks * HashSize, ""},
		{(MaxChunks + 1) * HashSize, "257 chunks, more than the 256"},
	}
	for _, tt := range tests {
		hashes, err := ChunkHashes(make([]byte, tt.size))
		switch {
		case tt.wantErrSub == "" && (err != nil || len(hashes) != tt.size/HashSize):
			t.Errorf("ChunkHashes(%d bytes) = %d hashes, %v", tt.size, len(hashes), err)
		case tt.wantErrSub != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErrSub)):
			t.Errorf("ChunkHashes(%d bytes) error = %v, want one containing %q", tt.size, err, tt.wantErrSub)
		}
	}
}

func TestParseHash(t *testing.T) {
	const lower = "cc30d8c7d762a8bc5cff67f40f2f1d7018492a071b7c1dbaac33c91616b0fdba"
	tests := []struct {
		in         string
		wantErrSub string
	}{
		{lower, ""},
		{strings.ToUpper(lower), ""},
		{"CC30d8c7d762a8bc5cff67f40f2f1d7018492a071b7c1dbaac33c91616b0fdBA", ""},
		{"", "0 characters long"},
		{lower[:63], "63 characters long"},
		{lower + "0", "65 characters long"},
		{"g" + lower[1:], "character 1 is not a hex digit"},
		{lower[:63] + " ", "character 64 is not a hex digit"},
		{strings.Repeat("é", 32), "not a hash"},
		{strings.Repeat("x", 10000), "..."}, // a long paste is not echoed whole
	}
	for _, tt := range tests {
		h, err := ParseHash(tt.in)
		if tt.wantErrSub == "" {
			if err != nil || h.String() != lower {
				t.Errorf("ParseHash(%q) = %s, %v; want %s", tt.in, h, err, lower)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
			t.Errorf("ParseHash(%.20q...) error = %v, want one containing %q", tt.in, err, tt.wantErrSub)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("ParseHash error is %d bytes long", len(err.Error()))
		}
	}
}

func TestHashJSON(t *testing.T) {
	h := HashOf([]byte("x"))
	b, err := json.Marshal(h)
	if err != nil || string(b) != `"`+h.String()+`"` {
		t.Fatalf("json.Marshal(hash) = %s, %v", b, err)
	}
	var back Hash
	if err := json.Unmarshal(b, &back); err != nil || back != h {
		t.Fatalf("json.Unmarshal = %s, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`"abc"`), &back); err == nil {
		t.Fatal("json.Unmarshal accepted a short hash")
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name       string
		wantErrSub string
	}{
		{"a.txt", ""},
		{"photo 2018 (1).JPG", ""},
		{"ünïcödé-日本.txt", ""},
		{"a..b", ""},
		{"trailing.", ""},
		{strings.Repeat("a", MaxNameBytes), ""},
		{"", "empty"},
		{strings.Repeat("a", MaxNameBytes+1), "256 bytes long, more than 255"},
		{strings.Repeat("é", 128), "256 bytes long"},
		{"bad\xffutf8", "not valid UTF-8"},
		{"a/b", "slash"},
		{"/etc", "slash"},
		{"../x", "slash"},
		{`a\b`, "backslash"},
		{`..\x`, "backslash"},
		{".", "starts with a dot"},
		{"..", "starts with a dot"},
		{".hidden", "starts with a dot"},
		{".partial", "starts with a dot"},
		{"a\x00b", "control character"},
		{"line\nbreak", "control character"},
		{"tab\there", "control character"},
		{"del\x7f", "control character"},
		{"c1\u0085", "control character"},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if tt.wantErrSub == "" {
			if err != nil {
				t.Errorf("ValidateName(%q) = %v, want nil", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
			t.Errorf("ValidateName(%q) = %v, want an error containing %q", tt.name, err, tt.wantErrSub)
		}
	}
}

func TestInside(t *testing.T) {
	dir := t.TempDir()
	if p, err := inside(dir, "ok.txt"); err != nil || p != filepath.Join(dir, "ok.txt") {
		t.Fatalf("inside(dir, ok.txt) = %q, %v", p, err)
	}
	for _, bad := range []string{"..", "../x", "a/../../x", "", "."} {
		if p, err := inside(dir, bad); err == nil {
			t.Errorf("inside(dir, %q) = %q, want an error", bad, p)
		}
	}
}
