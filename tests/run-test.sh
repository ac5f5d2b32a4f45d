#!/bin/sh
exec "$@" --tap
