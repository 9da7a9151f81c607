package host

import "slices"

// Attrs are a connection's attributes (attr.NAME of conn_info) as a short
// list of pairs: a connection has a few at most, and a slice costs far fewer
// bytes than a map. The zero value is empty. Not safe for concurrent use:
// its owner guards it.
type Attrs []Attr

// Attr is one attribute. A plain value.
type Attr struct {
	Key string `json:"k"`
	Val string `json:"v"`
}

// Get returns the value of key.
func (as Attrs) Get(key string) (string, bool) {
	for _, a := range as {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// Set sets key to val; an empty val removes it.
func (as *Attrs) Set(key, val string) {
	for i, a := range *as {
		if a.Key == key {
			if val == "" {
				*as = slices.Delete(*as, i, i+1)
			} else {
				(*as)[i].Val = val
			}
			return
		}
	}
	if val != "" {
		*as = append(*as, Attr{key, val})
	}
}
