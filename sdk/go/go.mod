module github.com/wshost/wshost/sdk/go

go 1.24
