#!/bin/sh
exec "${ZDDC_BUILD:-$(dirname "$0")/../build}/unit/store_mem"
