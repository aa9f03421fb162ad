// Package citations holds the test that every "theory eq. N" and "theory §N"
// cited anywhere in the repository (Go code, help texts, notebooks, docs)
// resolves in docs/theory.md, and that nothing cites the reconstruction of the
// paper kept outside the repository. It has no code.
package citations
