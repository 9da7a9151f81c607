// Package deploytest proves the files of deploy/ with the real programs:
// nginx (deploy/nginx/wshost.conf) in front of an in-process wshost, and
// systemd-analyze (deploy/systemd/wshost.service). It holds only tests.
package deploytest
