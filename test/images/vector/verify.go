// An independent check of cloudgate image envelopes with Go's standard library only:
// the key id is the SHA-256 of the raw 32-byte Ed25519 public key, and each signature
// covers PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body (DSSE protocol.md).
//
//	go run verify.go <envelope.json> <endorser.pub.json>...
//
// Exits 0 when every endorser given signed the envelope, printing one line per signature.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

type signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

type envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []signature `json:"signatures"`
}

type endorser struct {
	KeyID     string `json:"keyid"`
	PublicKey string `json:"public_key"`
}

func pae(payloadType string, body []byte) []byte {
	return append([]byte(fmt.Sprintf("DSSEv1 %d %s %d ", len(payloadType), payloadType, len(body))), body...)
}

func fail(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

func readJSON(file string, v any) {
	b, err := os.ReadFile(file)
	if err != nil {
		fail("%v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		fail("%s: %v", file, err)
	}
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: verify <envelope.json> <endorser.pub.json>...")
	}
	var env envelope
	readJSON(os.Args[1], &env)
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		fail("payload: %v", err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, f := range os.Args[2:] {
		var e endorser
		readJSON(f, &e)
		raw, err := base64.StdEncoding.DecodeString(e.PublicKey)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			fail("%s: public_key is not 32 bytes of base64", f)
		}
		sum := sha256.Sum256(raw)
		if id := hex.EncodeToString(sum[:]); id != e.KeyID {
			fail("%s: keyid %s is not sha256(public_key) %s", f, e.KeyID, id)
		}
		keys[e.KeyID] = ed25519.PublicKey(raw)
	}
	msg := pae(env.PayloadType, body)
	verified := 0
	for _, s := range env.Signatures {
		key, ok := keys[s.KeyID]
		if !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || !ed25519.Verify(key, msg, sig) {
			fail("signature by %s does not verify", s.KeyID)
		}
		fmt.Printf("verified %s %s\n", env.PayloadType, s.KeyID)
		verified++
	}
	if verified != len(keys) {
		fail("%d of %d endorsers signed", verified, len(keys))
	}
}
