module github.com/ajroetker/go-highway/hwy/goat

go 1.26
