// Package passwd hashes and verifies passwords with argon2id, and runs that
// work on a bounded pool of goroutines so that the server's event loop never
// waits for a hash.
//
// Hashes are stored as PHC strings,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// (salt and key in unpadded standard base64), which carry their own
// parameters: [Verify] uses the parameters of the stored string, so hashes
// made with older [Params] stay valid when [Default] changes.
//
// A loop hands hashing and verification to a [Pool] with its non-blocking
// Try methods and gets a [Result] back on a channel. To verify a login for a
// name that has no account, it verifies against [DummyHash] instead, at the
// same cost, so the time taken does not tell whether the name exists.
package passwd
