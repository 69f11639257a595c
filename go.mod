module github.com/peerster/Peerster

go 1.26.8

require go.dedis.ch/protobuf v1.0.11
