package cloudflare

import "errors"

// maxPages stops a paged read on a server that never ends its list.
const maxPages = 200

// errTooManyPages is walkPages' answer when maxPages pages did not end the list.
var errTooManyPages = errors.New("stopped after 200 pages")

// walkPages reads a paged list (docs/workers-api.md §3.4) from page 1,
// perPage items a page, and hands each page to visit until visit says it is
// done, a page is empty (the end, as in Cloudflare's SDK auto-pager), a page
// starts with the same item as the one before (a server that ignores page),
// a page is short, or result_info says it was the last. fetch's error is
// returned as it is.
func walkPages[T any](perPage int, fetch func(page int) ([]T, resultInfo, error), id func(*T) string, visit func([]T) (done bool)) error {
	prevFirst := ""
	for page := 1; page <= maxPages; page++ {
		items, info, err := fetch(page)
		if err != nil {
			return err
		}
		if len(items) == 0 || id(&items[0]) == prevFirst {
			return nil
		}
		if visit(items) {
			return nil
		}
		prevFirst = id(&items[0])
		size := perPage
		if info.PerPage > 0 {
			size = info.PerPage // the server may cap the page size
		}
		if len(items) < size || (info.TotalPages > 0 && page >= info.TotalPages) {
			return nil
		}
	}
	return errTooManyPages
}
