package plugin

// WithoutDeadline returns o compiling without interruption checks, for the
// benchmark that measures what the callback deadline costs.
func WithoutDeadline(o Options) Options {
	o.noDeadline = true
	return o
}
