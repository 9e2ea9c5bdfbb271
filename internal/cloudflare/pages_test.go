package cloudflare

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWalkPages(t *testing.T) {
	t.Parallel()
	// pageOf returns page p of a list of n items, 3 a page, named by index.
	pageOf := func(n int) func(int) ([]string, resultInfo, error) {
		return func(p int) ([]string, resultInfo, error) {
			var out []string
			for i := (p - 1) * 3; i < min(p*3, n); i++ {
				out = append(out, strconv.Itoa(i))
			}
			return out, resultInfo{}, nil
		}
	}
	id := func(s *string) string { return *s }
	boom := errors.New("boom")
	cases := []struct {
		name    string
		fetch   func(int) ([]string, resultInfo, error)
		stopAt  string // visit says done on the page holding this item
		pages   int    // pages visited
		wantErr error
	}{
		{name: "empty list", fetch: pageOf(0), pages: 0},
		{name: "short last page", fetch: pageOf(7), pages: 3},
		{name: "full last page, then an empty one", fetch: pageOf(6), pages: 2},
		{name: "visit is done", fetch: pageOf(9), stopAt: "4", pages: 2},
		{name: "result_info names the last page", fetch: func(p int) ([]string, resultInfo, error) {
			items, _, _ := pageOf(9)(p)
			return items, resultInfo{TotalPages: 2}, nil
		}, pages: 2},
		{name: "server caps the page size", fetch: func(p int) ([]string, resultInfo, error) {
			items, _, _ := pageOf(7)(p)
			return items, resultInfo{PerPage: 3}, nil
		}, pages: 3},
		{name: "server ignores page", fetch: func(int) ([]string, resultInfo, error) { return []string{"a", "b", "c"}, resultInfo{}, nil }, pages: 1},
		{name: "never-ending list", fetch: func(p int) ([]string, resultInfo, error) {
			return []string{strconv.Itoa(3 * p), "x", "y"}, resultInfo{}, nil
		}, pages: maxPages, wantErr: errTooManyPages},
		{name: "fetch fails", fetch: func(p int) ([]string, resultInfo, error) {
			if p == 2 {
				return nil, resultInfo{}, boom
			}
			return pageOf(9)(p)
		}, pages: 1, wantErr: boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pages := 0
			err := walkPages(3, tc.fetch, id, func(items []string) bool {
				pages++
				for _, it := range items {
					if tc.stopAt != "" && it == tc.stopAt {
						return true
					}
				}
				return false
			})
			assert.ErrorIs(t, err, tc.wantErr) // nil target: err must be nil
			assert.Equal(t, tc.pages, pages)
		})
	}
}
