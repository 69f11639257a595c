package main

import (
	"log/slog"
	"path/filepath"

	"github.com/peerster/Peerster/files"
	"github.com/peerster/Peerster/gossiper"
)

// library lets the gossiper keep its files in a files.Library: the two
// packages know nothing of each other, and this is where they meet.
type library struct{ lib *files.Library }

var _ gossiper.Files = library{}

func sharedFile(f files.File) gossiper.SharedFile {
	return gossiper.SharedFile{Name: f.Name, MetaHash: gossiper.Hash(f.MetaHash), Metafile: f.Metafile, Size: f.Size, Downloaded: f.Downloaded}
}

func (l library) Share(name string) (gossiper.SharedFile, error) {
	f, err := l.lib.Share(name)
	return sharedFile(f), err
}

func (l library) Put(name string, data []byte) (gossiper.SharedFile, error) {
	f, err := l.lib.Put(name, data)
	return sharedFile(f), err
}

func (l library) Begin(name string, meta gossiper.Hash, dest string) error {
	_, err := l.lib.Begin(name, files.Hash(meta), dest)
	return err
}

func (l library) Read(h gossiper.Hash) ([]byte, bool) { return l.lib.Read(files.Hash(h)) }

func (l library) SetMetafile(meta gossiper.Hash, metafile []byte) error {
	return l.lib.SetMetafile(files.Hash(meta), metafile)
}

func (l library) WriteChunk(meta gossiper.Hash, index int, data []byte) error {
	return l.lib.WriteChunk(files.Hash(meta), index, data)
}

func (l library) Complete(meta gossiper.Hash) (gossiper.SharedFile, error) {
	f, err := l.lib.Complete(files.Hash(meta))
	return sharedFile(f), err
}

func (l library) Abort(meta gossiper.Hash) error { return l.lib.Abort(files.Hash(meta)) }

func (l library) Path(meta gossiper.Hash) (string, bool) { return l.lib.Path(files.Hash(meta)) }

// openFiles opens the node's files: the shared and downloads folders of
// the working directory, as the file-sharing note fixes them, and, with
// -data, their index and partial downloads in it. It gives them to node;
// a folder that cannot be opened costs the node its files, not its chat.
func openFiles(dataDir string, node *gossiper.Node, logger *slog.Logger) *files.Library {
	opts := files.Options{SharedDir: files.DefaultSharedDir, DownloadsDir: files.DefaultDownloadsDir, Logger: logger}
	if dataDir != "" {
		opts.StateDir = filepath.Join(dataDir, "files")
	}
	lib, err := files.Open(opts)
	if err != nil {
		logger.Warn("no file sharing; gossiping without it", "err", err)
		return nil
	}
	var shared []gossiper.SharedFile
	for _, f := range lib.Files() {
		shared = append(shared, sharedFile(f))
	}
	var partial []gossiper.PartialDownload
	for _, p := range lib.Partials() {
		partial = append(partial, gossiper.PartialDownload{Name: p.Name, MetaHash: gossiper.Hash(p.MetaHash), Dest: p.Dest, Metafile: p.Metafile, Have: p.Have})
	}
	node.SetFiles(library{lib}, shared, partial)
	return lib
}
