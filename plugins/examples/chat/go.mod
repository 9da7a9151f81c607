module github.com/wshost/wshost/plugins/examples/chat

go 1.24

require github.com/wshost/wshost/sdk/go v0.0.0

replace github.com/wshost/wshost/sdk/go => ../../../sdk/go
