package host

import (
	"fmt"
	"time"
)

// Per-connection rate limits (Limits.RateMessages, RateBytes): two token
// buckets, owned by the connection's reader and checked before each data
// message is dispatched. A connection without rate limits has no limiter at
// all: its reader pays one nil check per message.

// rateDefaults sets the bursts of the rates in force; called by WithDefaults
// after MaxMessageBytes got its default.
func (l *Limits) rateDefaults() {
	if l.RateMessages > 0 && l.RateMessagesBurst == 0 {
		l.RateMessagesBurst = l.RateMessages
	}
	if l.RateBytes > 0 && l.RateBytesBurst == 0 {
		l.RateBytesBurst = max(l.RateBytes, l.MaxMessageBytes)
	}
}

// validateRates reports rate limits that cannot work; l has its defaults.
func (l Limits) validateRates() error {
	switch {
	case l.RateMessages < 0, l.RateMessagesBurst < 0, l.RateBytes < 0, l.RateBytesBurst < 0:
		return fmt.Errorf("%w: rate limits must not be negative", ErrConfig)
	case l.RateMessages == 0 && l.RateMessagesBurst != 0:
		return fmt.Errorf("%w: a message burst (%d) needs a message rate", ErrConfig, l.RateMessagesBurst)
	case l.RateBytes == 0 && l.RateBytesBurst != 0:
		return fmt.Errorf("%w: a byte burst (%d) needs a byte rate", ErrConfig, l.RateBytesBurst)
	case l.RateBytes > 0 && l.RateBytesBurst < l.MaxMessageBytes:
		return fmt.Errorf("%w: byte burst (%d) must hold one message of the message limit (%d)",
			ErrConfig, l.RateBytesBurst, l.MaxMessageBytes)
	}
	return nil
}

// tokenBucket holds up to burst tokens and gains rate of them per second.
// A zero rate is no limit. Not safe for concurrent use.
type tokenBucket struct {
	rate, burst, tokens float64
}

func newTokenBucket(rate, burst int) tokenBucket {
	return tokenBucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst)}
}

// refill adds what elapsed seconds earned.
func (b *tokenBucket) refill(elapsed float64) {
	if b.rate > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.rate)
	}
}

func (b *tokenBucket) has(n float64) bool { return b.rate == 0 || b.tokens >= n }

func (b *tokenBucket) take(n float64) {
	if b.rate > 0 {
		b.tokens -= n
	}
}

// rateLimiter is a connection's pair of buckets. Owned by its reader.
type rateLimiter struct {
	msgs, bytes tokenBucket
	last        time.Time
	now         func() time.Time
}

// newRateLimiter returns nil when l sets no rate.
func newRateLimiter(l Limits) *rateLimiter {
	if l.RateMessages <= 0 && l.RateBytes <= 0 {
		return nil
	}
	rl := &rateLimiter{
		msgs:  newTokenBucket(l.RateMessages, l.RateMessagesBurst),
		bytes: newTokenBucket(l.RateBytes, l.RateBytesBurst),
		now:   time.Now,
	}
	rl.last = rl.now()
	return rl
}

// allow takes one message of n bytes, or says which limit it would pass.
func (rl *rateLimiter) allow(n int) (problem string, ok bool) {
	now := rl.now()
	elapsed := now.Sub(rl.last).Seconds()
	rl.last = now
	rl.msgs.refill(elapsed)
	rl.bytes.refill(elapsed)
	switch {
	case !rl.msgs.has(1):
		return fmt.Sprintf("rate limit: more than %.0f messages per second (burst %.0f)",
			rl.msgs.rate, rl.msgs.burst), false
	case !rl.bytes.has(float64(n)):
		return fmt.Sprintf("rate limit: more than %.0f bytes per second (burst %.0f), at a message of %d bytes",
			rl.bytes.rate, rl.bytes.burst, n), false
	}
	rl.msgs.take(1)
	rl.bytes.take(float64(n))
	return "", true
}

// withinRate charges a message of n bytes to the reader's limiter; past a
// limit it starts the close (1008, Error(KindProtocol)) after what was
// already queued and reports false: the message is not dispatched.
func (c *Conn) withinRate(rl *rateLimiter, n int) bool {
	problem, ok := rl.allow(n)
	if !ok {
		c.ep.log.Info("rate limit", "conn", c.id, "problem", problem)
		_ = c.startClose(ClosePolicy, "rate limit exceeded", KindProtocol, problem)
	}
	return ok
}
