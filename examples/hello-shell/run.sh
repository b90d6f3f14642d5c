#!/bin/sh
# The busybox example app: the shell-app buildpack makes this the default process.
echo "hello from the kiln busybox example"
