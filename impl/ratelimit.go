package impl

import "time"

// bucket is a client's token bucket under Config.LineRate (LIMIT-11): it
// holds at most burst tokens, is full when the connection opens, and gains
// rate tokens a second. The reader takes a token for every line before it
// reads it, and waits when there is none, so a client that sends faster
// is read more slowly, and none of its lines is refused (LIMIT-6). Owned
// by the connection's reader goroutine.
type bucket struct {
	rate   float64 // tokens a second
	burst  float64
	tokens float64
	last   time.Time // when tokens was last brought up to date
}

// newBucket returns a full bucket, or nil if rate does not limit anything.
func newBucket(rate float64, burst int) *bucket {
	if rate <= 0 {
		return nil
	}
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// take removes a token if there is one and returns 0; otherwise it takes
// nothing and returns how long until there will be one.
func (b *bucket) take(t time.Time) time.Duration {
	b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	b.last = t
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}
